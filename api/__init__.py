"""HTTP endpoints beside GraphQL (schema/) and the pages (h5/): claim uploads and signature,
signed claim files, policy certificates; and the streaming multipart reader the H5
supplement portal shares. They call server/ services; server/app.py mounts their routes."""
