/* H5 directory pages: "Nearest to me" and on-device favourites. The pages work without it. */
(function () {
  "use strict";
  document.documentElement.classList.add("js");  // shows what needs JavaScript (.needs-js)
  var KEY = "h5.favourites";

  function readFavs() {
    try {
      var v = JSON.parse(localStorage.getItem(KEY) || "[]");
      return Array.isArray(v) ? v.filter(function (x) { return typeof x === "string"; }) : [];
    } catch (e) { return []; }
  }
  function writeFavs(list) {
    try { localStorage.setItem(KEY, JSON.stringify(list)); } catch (e) { /* private mode: keep in page */ }
  }

  function favUrl(href, list) {
    var u = new URL(href, location.href);
    if (list.length) { u.searchParams.set("ids", list.join(",")); } else { u.searchParams.delete("ids"); }
    return u.pathname + u.search;
  }

  function paintFavs() {
    var list = readFavs();
    var link = document.getElementById("fav-link");
    if (link) { link.href = favUrl(link.getAttribute("href"), list); }
    var stars = document.querySelectorAll("button[data-fav]");
    for (var i = 0; i < stars.length; i++) {
      var b = stars[i];
      var on = list.indexOf(b.getAttribute("data-fav")) >= 0;
      b.setAttribute("aria-pressed", on ? "true" : "false");
      b.textContent = b.getAttribute(on ? "data-on" : "data-off");
      b.hidden = false;
    }
  }

  function toggleFav(id) {
    var list = readFavs();
    var at = list.indexOf(id);
    if (at >= 0) { list.splice(at, 1); } else { list.push(id); }
    writeFavs(list);
    paintFavs();
  }

  function syncFavouritesPage() {
    // The favourites page is rendered from ?ids=; bring it in line with this device.
    if (document.body.getAttribute("data-page") !== "favourites") { return; }
    var want = readFavs().join(",");
    var have = new URL(location.href).searchParams.get("ids") || "";
    if (want !== have) { location.replace(favUrl(location.href, readFavs())); }
  }

  function setupNearest() {
    var btn = document.getElementById("near");
    var msg = document.getElementById("geo-msg");
    var form = btn && btn.form;
    if (!btn || !msg || !form) { return; }
    btn.hidden = false;

    function offerDistricts(key) {
      msg.textContent = msg.getAttribute(key);
      msg.className = "geo-msg warn";
      msg.setAttribute("role", "alert");
      btn.disabled = false;
      var district = document.getElementById("district");
      if (district) { district.classList.add("highlight"); district.focus(); }
    }

    btn.addEventListener("click", function () {
      if (!("geolocation" in navigator)) { offerDistricts("data-unavailable"); return; }
      msg.className = "geo-msg";
      msg.textContent = msg.getAttribute("data-locating");
      btn.disabled = true;
      navigator.geolocation.getCurrentPosition(function (pos) {
        var u = new URL(form.getAttribute("action"), location.href);
        // the words and the district chosen stay; the position replaces a typed place
        var keep = ["q", "district"];
        for (var i = 0; i < keep.length; i++) {
          var el = form.elements.namedItem(keep[i]);
          if (el && el.value) { u.searchParams.set(keep[i], el.value); }
        }
        var size = form.elements.namedItem("size");
        if (size && size.value) { u.searchParams.set("size", size.value); }
        // rounded to ~100 m (3 decimals) here, before anything leaves the browser
        u.searchParams.set("lat", pos.coords.latitude.toFixed(3));
        u.searchParams.set("lng", pos.coords.longitude.toFixed(3));
        u.searchParams.set("sort", "distance");
        location.assign(u.pathname + u.search);
      }, function (err) {
        offerDistricts(err && err.code === 1 ? "data-refused" : "data-unavailable");
      }, { enableHighAccuracy: false, timeout: 15000, maximumAge: 300000 });
    });
  }

  function copyText(b) {
    var src = document.getElementById(b.getAttribute("data-copy"));
    if (!src || !navigator.clipboard) { return; }
    navigator.clipboard.writeText(src.textContent).then(function () {
      b.textContent = b.getAttribute("data-done");
    }, function () { /* refused: the address stays on the page to copy by hand */ });
  }

  document.addEventListener("click", function (ev) {
    var t = ev.target;
    if (t && t.closest) {
      var b = t.closest("button[data-fav]");
      if (b) { toggleFav(b.getAttribute("data-fav")); }
      var c = t.closest("button[data-copy]");
      if (c) { copyText(c); }
    }
  });

  function start() {
    syncFavouritesPage();
    paintFavs();
    setupNearest();
    var copies = document.querySelectorAll("button[data-copy]");
    for (var i = 0; i < copies.length; i++) { if (navigator.clipboard) { copies[i].hidden = false; } }
    var errors = document.getElementById("form-errors");
    if (errors) { errors.focus(); }
  }
  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", start); } else { start(); }
})();
