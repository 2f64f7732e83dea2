/* The static site's search: the list's compact index (search.json: a small list whole, a
   large one's first rows and the names of its other shards, fetched at the first search),
   matched in the browser with the server's analysis: the facilities' terms are cut and
   indexed at build time, and a query is read as server/search/analysis.py reads it (jieba's
   cut over the directory's dictionary words, stems, words joined, synonyms, the lexicon's
   completions and one-typo neighbours), from search-words.json. Also registers the service
   worker that keeps the site for offline use. Only on the built site. */
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
  var HAN = /^[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]/;
  var RUNS = /([\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+)|([0-9a-z\u00df-\u00f6\u00f8-\u024f]+)/g;
  var APOSTROPHE = /([a-z])['\u2019\u02bc](?=[a-z])/g;
  var LATIN_TERM = /^[a-z]+$/;
  // as server/search/analysis.py's Lexicon
  var PREFIX_MIN = 3, TYPO_MIN = 4, MAX_PREFIX_TERMS = 24, MAX_TYPO_TERMS = 8, MAX_JOIN = 4;
  var site = root.getAttribute("data-site") || "/h5/";
  var loading = null, whole = null;

  function json(url) {
    return fetch(url).then(function (r) {
      if (!r.ok) { throw new Error(url + ": " + r.status); }
      return r.json();
    });
  }

  // a file's rows, written as columns
  function prepare(part) {
    var cols = part.cols, rows = [], i;
    for (i = 0; cols.length && i < cols[0].length; i++) {
      rows.push(cols.map(function (c) { return c[i]; }));
    }
    rows.forEach(function (row) {
      row.terms = new Set(row[7].split(" "));
      row.grams = new Set(row[8].split(" "));
    });
    return rows;
  }

  // the service worker keeps the driver cards of the rows read
  function keep(data, rows) {
    if (navigator.serviceWorker && navigator.serviceWorker.controller) {
      navigator.serviceWorker.controller.postMessage({keep: rows.map(function (row) {
        return data.base + "facility/" + row[0] + "/driver/";
      })});
    }
  }

  function readWords(w) {
    var longest = 1;
    Object.keys(w.dict).forEach(function (k) { longest = Math.max(longest, k.length); });
    w.longest = longest;
    w.logtotal = Math.log(w.total);
    w.sorted = Object.keys(w.lexicon).sort();
    return w;
  }

  // what the page loads: the list's search.json (a small list whole, a large one's first
  // rows) and the words every list shares
  function load() {
    if (!loading) {
      loading = Promise.all([json(indexUrl), json(site + "search-words.json")]).then(function (got) {
        var data = got[0];
        data.rows = prepare(data);
        data.words = readWords(got[1]);
        keep(data, data.rows);
        return data;
      });
      loading.catch(function () { loading = null; });
    }
    return loading;
  }

  // the list's other shards, fetched at the first search
  function shardsOf(url, data) {
    var folder = url.replace(/[^\/]*$/, "");
    return Promise.all(data.shards.map(function (name) { return json(folder + name); }))
      .then(function (shards) {
        shards.forEach(function (shard) { data.rows = data.rows.concat(prepare(shard)); });
        data.shards = [];
        return data;
      });
  }

  function loadAll() {
    if (!whole) {
      // a large list's cards beyond its first rows are kept as they are opened
      whole = load().then(function (data) { return shardsOf(indexUrl, data); });
      whole.catch(function () { whole = null; });
    }
    return whole;
  }

  function normalise(text) {
    return text.normalize("NFKC").toLowerCase().replace(APOSTROPHE, "$1");
  }

  function stem(w, W) { return Object.prototype.hasOwnProperty.call(W.stems, w) ? W.stems[w] : w; }
  function has(map, k) { return Object.prototype.hasOwnProperty.call(map, k); }
  function unique(list) { return list.filter(function (x, i) { return list.indexOf(x) === i; }); }

  // a run of Chinese cut as jieba cuts it (no HMM): the most probable route through the
  // dictionary words it holds
  function cut(run, W) {
    var n = run.length, route = new Array(n + 1), i, j;
    route[n] = [0, 0];
    for (i = n - 1; i >= 0; i--) {
      var dag = [];
      for (j = i; j < n && j - i < W.longest; j++) {
        if (has(W.dict, run.slice(i, j + 1))) { dag.push(j); }
      }
      if (!dag.length) { dag.push(i); }
      var best = null;
      dag.forEach(function (x) {
        var frag = run.slice(i, x + 1), f = has(W.dict, frag) ? W.dict[frag] : 1;
        var score = Math.log(f) - W.logtotal + route[x + 1][0];
        if (best === null || score > best[0] || (score === best[0] && x > best[1])) { best = [score, x]; }
      });
      route[i] = best;
    }
    var out = [];
    for (i = 0; i < n; i = route[i][1] + 1) { out.push(run.slice(i, route[i][1] + 1)); }
    return out;
  }

  function latinWord(w, W) {
    var s = stem(w, W);
    return {word: w, forms: unique([s, w]), grams: []};
  }

  function queryWords(text, W) {
    var out = [], m;
    text = normalise(text);
    RUNS.lastIndex = 0;
    while ((m = RUNS.exec(text)) !== null) {
      if (m[1]) {
        cut(m[1], W).forEach(function (w) {
          out.push({word: w, forms: [w], grams: w.length === 1 ? [w] : []});
        });
      } else {
        out.push(latinWord(m[2], W));
      }
    }
    return out;
  }

  // adjacent Latin words that make one term of the lexicon: "ren ji" is renji
  function joined(list, W) {
    var out = [], i = 0;
    while (i < list.length) {
      var j, done = false;
      for (j = Math.min(list.length, i + MAX_JOIN); j > i + 1; j--) {
        var run = list.slice(i, j).map(function (w) { return w.word; });
        if (run.every(function (w) { return LATIN_TERM.test(w); }) && has(W.lexicon, run.join(""))) {
          out.push(latinWord(run.join(""), W)); i = j; done = true; break;
        }
      }
      if (!done) { out.push(list[i]); i += 1; }
    }
    return out;
  }

  function mostCommon(terms, n, W) {
    return terms.slice().sort(function (a, b) {
      return (W.lexicon[b] - W.lexicon[a]) || (a < b ? -1 : a > b ? 1 : 0);
    }).slice(0, n);
  }

  function completions(prefix, W) {
    var list = W.sorted, lo = 0, hi = list.length, out = [];
    while (lo < hi) { var mid = (lo + hi) >> 1; if (list[mid] < prefix) { lo = mid + 1; } else { hi = mid; } }
    for (; lo < list.length && list[lo].lastIndexOf(prefix, 0) === 0; lo++) { out.push(list[lo]); }
    return out;
  }

  function oneEdit(a, b) {
    if (a === b) { return true; }
    if (Math.abs(a.length - b.length) > 1) { return false; }
    var i;
    if (a.length === b.length) {
      var diff = [];
      for (i = 0; i < a.length; i++) { if (a[i] !== b[i]) { diff.push(i); if (diff.length > 2) { return false; } } }
      if (diff.length === 1) { return true; }
      return diff.length === 2 && diff[1] === diff[0] + 1 && a[diff[0]] === b[diff[1]] && a[diff[1]] === b[diff[0]];
    }
    var s = a.length < b.length ? a : b, l = a.length < b.length ? b : a;
    i = 0;
    while (i < s.length && s[i] === l[i]) { i++; }
    return s.slice(i) === l.slice(i + 1);
  }

  function neighbours(w, W) {
    if (w.forms.some(function (f) { return has(W.lexicon, f); }) || !LATIN_TERM.test(w.word)) { return []; }
    var found = [];
    if (w.word.length >= PREFIX_MIN) { found = found.concat(mostCommon(completions(w.word, W), MAX_PREFIX_TERMS, W)); }
    if (w.word.length >= TYPO_MIN) {
      var typos = W.sorted.filter(function (t) {
        return t !== w.word && t.length >= TYPO_MIN - 1 && oneEdit(w.word, t);
      });
      found = found.concat(mostCommon(typos, MAX_TYPO_TERMS, W));
    }
    return unique(found);
  }

  // the query's clauses, as analysis.Lexicon.query makes them: each word's forms, its
  // synonyms' or (an unknown Latin word) the lexicon's completions and one-typo neighbours
  function clauses(text, W) {
    var out = [], seen = Object.create(null);
    joined(queryWords(text, W), W).forEach(function (w) {
      if (seen[w.word]) { return; }
      seen[w.word] = 1;
      var han = HAN.test(w.word), key = han ? w.word : stem(w.word, W);
      var near = has(W.synonyms, key) ? W.synonyms[key].filter(function (f) { return w.forms.indexOf(f) < 0; }) : [];
      if (!near.length && !han) { near = neighbours(w, W); }
      near = unique(near).filter(function (f) { return w.forms.indexOf(f) < 0; });
      out.push({forms: w.forms.concat(near), grams: w.grams});
    });
    return out;
  }

  function matches(row, cls) {
    return cls.every(function (c) {
      if (c.forms.some(function (f) { return row.terms.has(f); })) { return true; }
      return c.grams.length > 0 && c.grams.every(function (g) { return row.grams.has(g); });
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
      var url = m[1] + kind + "/search.json";
      return json(url).then(function (data) { data.rows = prepare(data); return shardsOf(url, data); });
    })).then(function (lists) {
      var rows = [];
      lists.forEach(function (d) {
        d.rows.forEach(function (row) { if (ids.indexOf(row[0]) >= 0) { rows.push(row); } });
      });
      if (rows.length) { empty.hidden = true; show(lists[0], rows, empty); }
    }).catch(function () {});
  }

  function search(data, q, district, near) {
    var cls = clauses(q, data.words);
    if (q.trim() && !cls.length) { return []; }  // nothing searchable typed: nothing found
    var rows = data.rows.filter(function (row) {
      return (!district || row[3] === district) && matches(row, cls);
    });
    if (near) {
      rows = rows.map(function (row) { return [km(row[4], row[5], near[0], near[1]), row]; })
        .sort(function (a, b) { return a[0] - b[0]; }).map(function (p) { p[1].km = p[0]; return p[1]; });
    }
    return rows;
  }

  // the rows read so far answer at once; a large list's other shards answer when they come
  function run(q, district, near, answer) {
    return load().then(function (data) {
      if (!data.shards.length) { return data; }
      answer(data, search(data, q, district, near), true);
      return loadAll();
    }).then(function (data) { answer(data, search(data, q, district, near), false); });
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
    run(q, district, near, function (data, rows) {
      show(data, rows);
      history.replaceState(null, "", "#q=" + encodeURIComponent(q) + (district ? "&district=" + encodeURIComponent(district) : ""));
    });
  });
  load();
  // the ids a search finds (every shard; with `first`, what the first rows answer)
  window.staticSearch = function (q, district, first) {
    return (first ? load() : loadAll()).then(function (data) {
      return search(data, q || "", district || "", null).map(function (row) { return row[0]; });
    });
  };
})();
