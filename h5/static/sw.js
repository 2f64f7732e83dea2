/* Keeps the static site for offline use: every public page and file fetched is kept, the list's
   driver cards and facility pages as soon as its index is read; without a network the
   kept copy answers. */
"use strict";
var CACHE = "h5-site";

self.addEventListener("install", function () { self.skipWaiting(); });
self.addEventListener("activate", function (event) { event.waitUntil(self.clients.claim()); });

self.addEventListener("message", function (event) {
  var urls = (event.data && event.data.keep) || [];
  event.waitUntil(caches.open(CACHE).then(function (cache) {
    return Promise.all(urls.map(function (u) {
      return cache.match(u).then(function (hit) { return hit || cache.add(u).catch(function () {}); });
    }));
  }));
});

self.addEventListener("fetch", function (event) {
  var request = event.request, url = new URL(request.url);
  if (request.method !== "GET" || url.origin !== location.origin) { return; }
  // the supplement portal (a claimant's own pages) is never kept
  if (url.pathname.indexOf("/supplement") >= 0) { return; }
  event.respondWith(fetch(request).then(function (response) {
    var cache = response.headers.get("Cache-Control") || "";
    if (response.ok && !/no-store|private/.test(cache)) {
      var copy = response.clone();
      caches.open(CACHE).then(function (cache) { cache.put(request, copy); });
    }
    return response;
  }).catch(function () {
    return caches.match(request, {ignoreSearch: true}).then(function (hit) {
      return hit || new Response("Offline, and this page was not kept.", {status: 503, headers: {"Content-Type": "text/plain; charset=utf-8"}});
    });
  }));
});
