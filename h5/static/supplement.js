/* H5 supplement portal: one request per file with a progress bar, large photos made
   smaller in the browser first. Without this script the forms post as they are. */
(function () {
  "use strict";
  document.documentElement.classList.add("js");

  var MAX_SIDE = 2560;                 // long side of a shrunk photo: an invoice stays legible
  var SHRINK_OVER = 1.5 * 1024 * 1024; // smaller photos go as they are
  var QUALITY = 0.85;
  var busy = 0;

  function text(key, message) {
    var holder = document.getElementById("js-text");
    var value = holder ? holder.getAttribute("data-" + key) || "" : "";
    return message === undefined ? value : value.replace("{message}", message);
  }

  function setBusy(delta) {
    busy += delta;
    var button = document.getElementById("submit-button");
    var note = document.getElementById("busy-note");
    if (button) { button.disabled = busy > 0; }
    if (note) { note.hidden = busy === 0; }
  }

  function jpegName(name) {
    var stem = name.replace(/\.[^.]*$/, "") || "photo";
    return stem + ".jpg";
  }

  // A JPEG or PNG photo larger than needed is redrawn smaller on a canvas (upright, no
  // metadata); anything else, or a result that is not smaller, goes unchanged.
  function shrink(file) {
    if (!/^image\/(jpeg|png)$/.test(file.type) || !window.createImageBitmap ||
        !window.HTMLCanvasElement || !HTMLCanvasElement.prototype.toBlob) {
      return Promise.resolve(file);
    }
    return createImageBitmap(file, { imageOrientation: "from-image" }).then(function (bitmap) {
      var side = Math.max(bitmap.width, bitmap.height);
      if (file.size <= SHRINK_OVER && side <= MAX_SIDE) {
        if (bitmap.close) { bitmap.close(); }
        return file;
      }
      var scale = Math.min(1, MAX_SIDE / side);
      var canvas = document.createElement("canvas");
      canvas.width = Math.max(1, Math.round(bitmap.width * scale));
      canvas.height = Math.max(1, Math.round(bitmap.height * scale));
      var ctx = canvas.getContext("2d");
      ctx.fillStyle = "#fff";
      ctx.fillRect(0, 0, canvas.width, canvas.height);
      ctx.drawImage(bitmap, 0, 0, canvas.width, canvas.height);
      if (bitmap.close) { bitmap.close(); }
      return new Promise(function (resolve) {
        canvas.toBlob(function (blob) {
          if (!blob || blob.size >= file.size) { resolve(file); return; }
          blob.name = jpegName(file.name);
          resolve(blob);
        }, "image/jpeg", QUALITY);
      });
    }).catch(function () { return file; });
  }

  function addDocument(category, doc) {
    var template = document.getElementById("doc-template");
    var list = document.getElementById("docs-" + category);
    if (!template || !list) { return; }
    var item = template.content.firstElementChild.cloneNode(true);
    item.id = "doc-" + doc.id;
    var link = item.querySelector("a");
    link.href = doc.url;
    var img = item.querySelector("img");
    var button = item.querySelector("button");
    if (doc.thumbnailUrl) {
      img.src = doc.thumbnailUrl;
      img.alt = button.getAttribute("data-preview").replace("{name}", doc.name);
      link.classList.add("has-thumb");
    } else {
      img.parentNode.removeChild(img);
      link.classList.add("no-thumb");
    }
    item.querySelector(".doc-name").textContent = doc.name;
    item.querySelector("input[name=document]").value = String(doc.id);
    button.setAttribute("aria-label", button.getAttribute("data-label").replace("{name}", doc.name));
    list.appendChild(item);
    var none = document.getElementById("none-" + category);
    if (none) { none.hidden = true; }
  }

  function progressRow(form, name) {
    var list = form.querySelector(".progress-list");
    var row = document.createElement("li");
    var label = document.createElement("span");
    var state = document.createElement("span");
    var bar = document.createElement("progress");
    label.textContent = name + " ";
    state.textContent = text("shrinking");
    bar.max = 100;
    bar.value = 0;
    bar.setAttribute("aria-label", name);
    row.appendChild(label);
    row.appendChild(state);
    row.appendChild(bar);
    list.appendChild(row);
    return { row: row, state: state, bar: bar };
  }

  function send(form, file, ui) {
    return new Promise(function (resolve) {
      var data = new FormData();
      data.append("file", file, file.name || "photo.jpg");
      var xhr = new XMLHttpRequest();
      xhr.open("POST", form.getAttribute("action"));
      xhr.setRequestHeader("Accept", "application/json");
      xhr.setRequestHeader("X-CSRF-Token", form.elements.namedItem("csrf").value);
      ui.state.textContent = text("uploading");
      xhr.upload.onprogress = function (e) {
        if (e.lengthComputable) { ui.bar.value = Math.round(100 * e.loaded / e.total); }
      };
      xhr.onload = function () {
        var body = {};
        try { body = JSON.parse(xhr.responseText); } catch (e) { body = {}; }
        (body.documents || []).forEach(function (doc) { addDocument(form.getAttribute("data-category"), doc); });
        if (xhr.status === 201) {
          ui.bar.value = 100;
          ui.state.textContent = text("done");
          ui.row.parentNode.removeChild(ui.row);
        } else {
          var message = body.error && body.error.message ? body.error.message : text("network");
          ui.state.textContent = text("failed", message);
          ui.row.classList.add("failed");
          ui.bar.hidden = true;
        }
        resolve();
      };
      xhr.onerror = function () {
        ui.state.textContent = text("failed", text("network"));
        ui.row.classList.add("failed");
        ui.bar.hidden = true;
        resolve();
      };
      xhr.send(data);
    });
  }

  function uploadAll(form, files) {
    if (!files.length) { return; }
    setBusy(1);
    var rows = files.map(function (f) { return progressRow(form, f.name); });
    // one file after the other: a phone on a slow line finishes each before the next
    var chain = Promise.resolve();
    files.forEach(function (file, i) {
      chain = chain.then(function () {
        return shrink(file).then(function (ready) { return send(form, ready, rows[i]); });
      });
    });
    chain.then(function () { setBusy(-1); });
  }

  function filesOf(form) {
    var files = [];
    var inputs = form.querySelectorAll("input[type=file]");
    for (var i = 0; i < inputs.length; i++) {
      for (var j = 0; j < inputs[i].files.length; j++) { files.push(inputs[i].files[j]); }
      inputs[i].value = "";
    }
    return files;
  }

  document.addEventListener("change", function (ev) {
    var input = ev.target;
    if (input && input.type === "file" && input.form && input.form.classList.contains("upload")) {
      uploadAll(input.form, filesOf(input.form));
    }
  });

  document.addEventListener("submit", function (ev) {
    var form = ev.target;
    if (form.classList.contains("upload")) {
      ev.preventDefault();
      uploadAll(form, filesOf(form));
    } else if (form.id === "submit-form" && busy > 0) {
      ev.preventDefault();
    }
  });

  function start() {
    var errors = document.getElementById("form-errors");
    if (errors) { errors.focus(); }
  }
  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", start); } else { start(); }
})();
