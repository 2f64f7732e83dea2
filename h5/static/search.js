/* The static site's search: the list's compact index (search.json), matched in the
   browser with the server's analysis (terms cut and indexed at build time); and the
   service worker that keeps the site for offline use. Only on the built site. */
(function () {
  "use strict";
  var root = document.documentElement;
  if ("serviceWorker" in navigator && root.hasAttribute("data-site")) {
    navigator.serviceWorker.register(root.getAttribute("data-site") + "sw.js").catch(function () {});
  }
  var indexUrl = root.getAttribute("data-index");
  var form = document.querySelector("form.search");
  var favPage = root.hasAttribute("data-site") && document.body.getAttribute("data-page") === "favourites";
  if (favPage) { favourites(); }
  if (!indexUrl || !form) { return; }
  var HAN = /[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]/;
  var RUNS = /([\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+)|([0-9a-z\u00df-\u00f6\u00f8-\u024f]+)/g;
  var index = null;

  function load() {
    if (index) { return Promise.resolve(index); }
    return fetch(indexUrl).then(function (r) { return r.json(); }).then(function (data) {
      var vocab = Object.create(null), longest = 1;
      data.rows.forEach(function (row) {
        row.terms = new Set(row[7].split(" "));
        row.grams = new Set(row[8].split(" "));
        row[7].split(" ").forEach(function (t) {
          if (t.length > 1 && HAN.test(t)) { vocab[t] = 1; longest = Math.max(longest, t.length); }
        });
      });
      data.vocab = vocab; data.longest = longest;
      index = data;
      if (navigator.serviceWorker && navigator.serviceWorker.controller) {
        navigator.serviceWorker.controller.postMessage({keep: data.pages});
      }
      return data;
    });
  }

  // a query word: its forms (any one found matches) or its characters (all needed)
  function clauses(text, data) {
    var out = [], m;
    text = text.normalize("NFKC").toLowerCase();
    RUNS.lastIndex = 0;
    while ((m = RUNS.exec(text)) !== null) {
      if (m[1]) {
        var run = m[1], i = 0;
        while (i < run.length) {
          var size = Math.min(data.longest, run.length - i), word = null;
          for (; size > 1; size--) {
            if (data.vocab[run.substr(i, size)]) { word = run.substr(i, size); break; }
          }
          if (word) { out.push({forms: [word]}); i += word.length; }
          else { out.push({grams: [run.charAt(i)]}); i += 1; }
        }
      } else {
        var w = m[2], stem = data.stems[w];
        out.push({forms: stem && stem !== w ? [w, stem] : [w]});
      }
    }
    return out;
  }

  function matches(row, cls) {
    return cls.every(function (c) {
      if (c.grams) { return c.grams.every(function (g) { return row.grams.has(g); }); }
      return c.forms.some(function (f) { return row.terms.has(f); });
    });
  }

  function km(a, b, lat, lng) {
    var r = Math.PI / 180, dl = (lat - a) * r, dg = (lng - b) * r;
    var h = Math.sin(dl / 2) * Math.sin(dl / 2) +
      Math.cos(a * r) * Math.cos(lat * r) * Math.sin(dg / 2) * Math.sin(dg / 2);
    return 12742 * Math.asin(Math.sqrt(h));
  }

  // the favourites page, on a static host: this device's list, from the lists' indexes
  function favourites() {
    var m = location.pathname.match(/^(.*\/h5\/(?:en|zh)\/)favourites\/?$/), ids = [];
    try { ids = JSON.parse(localStorage.getItem("h5.favourites") || "[]"); } catch (e) { ids = []; }
    var empty = document.getElementById("fav-empty");
    if (!m || !ids.length || !empty) { return; }
    Promise.all(["medical", "dental", "designated"].map(function (kind) {
      return fetch(m[1] + kind + "/search.json").then(function (r) { return r.json(); });
    })).then(function (lists) {
      var rows = [];
      lists.forEach(function (d) {
        d.rows.forEach(function (row) { if (ids.indexOf(row[0]) >= 0) { rows.push(row); } });
      });
      if (rows.length) { empty.hidden = true; show(lists[0], rows, empty); }
    }).catch(function () {});
  }

  function search(data, q, district, near) {
    var cls = clauses(q, data);
    var rows = data.rows.filter(function (row) {
      return (!district || row[3] === district) && matches(row, cls);
    });
    if (near) {
      rows = rows.map(function (row) { return [km(row[4], row[5], near[0], near[1]), row]; })
        .sort(function (a, b) { return a[0] - b[0]; }).map(function (p) { p[1].km = p[0]; return p[1]; });
    }
    return rows;
  }

  function show(data, rows, anchor) {
    var list = document.querySelector("ol.results");
    if (!list) { list = document.createElement("ol"); list.className = "results"; (anchor || form).after(list); }
    list.textContent = "";
    rows.forEach(function (row) {
      var li = document.createElement("li"), h = document.createElement("h2"), a = document.createElement("a");
      li.className = "card"; li.id = "f-" + row[0];
      a.href = data.base + "facility/" + row[0] + "/"; a.textContent = row[1];
      h.className = "name"; h.appendChild(a); li.appendChild(h);
      if (row[2]) { var o = document.createElement("p"); o.className = "other"; o.textContent = row[2]; li.appendChild(o); }
      var d = document.createElement("p"); d.className = "addr"; d.textContent = row[6];
      if (row.km !== undefined) { d.textContent += " · " + row.km.toFixed(1) + " km"; }
      li.appendChild(d);
      var p = document.createElement("p"), b = document.createElement("a");
      p.className = "actions"; b.className = "btn driver"; b.href = data.base + "facility/" + row[0] + "/driver/";
      b.textContent = data.driver; p.appendChild(b); li.appendChild(p);
      list.appendChild(li);
    });
    var count = document.getElementById("count");
    if (count) { count.textContent = data.count.replace("{n}", rows.length); }
    var paging = document.querySelector("nav.paging");
    if (paging) { paging.hidden = true; }
  }

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    var q = form.elements.q.value, district = form.elements.district ? form.elements.district.value : "";
    var near = null;
    if (form.elements.lat && form.elements.lng && form.elements.sort && form.elements.sort.value === "distance") {
      near = [parseFloat(form.elements.lat.value), parseFloat(form.elements.lng.value)];
    }
    load().then(function (data) {
      show(data, search(data, q, district, near));
      history.replaceState(null, "", "#q=" + encodeURIComponent(q) + (district ? "&district=" + encodeURIComponent(district) : ""));
    });
  });
  load();
  window.staticSearch = function (q, district) {
    return load().then(function (data) {
      return search(data, q || "", district || "", null).map(function (row) { return row[0]; });
    });
  };
})();
