/* Search box of the static archive index (embed-archiver). Self-contained, offline.
 *
 * The posts come from the files that search-index.js next to this file lists
 * (search-2024-05-1.js, ...): each is JSON in one call, because a page opened from
 * the file system may not fetch() a JSON file. They are loaded on the first use of
 * the box, not with every page view; results keep the list's order, newest first.
 *
 * Matching follows `embed-archiver posts search`: every word must match a whole
 * word of the text, author name or handle; a word ending in * matches a prefix.
 * Case does not matter. Results are built with textContent and checked links:
 * nothing from a post is ever parsed as HTML.
 */
(function () {
  "use strict";
  var form = document.getElementById("search");
  if (!form) return;
  var input = form.querySelector("input");
  var status = document.getElementById("search-status");
  var results = document.getElementById("search-results");
  var listing = document.querySelectorAll("[data-listing]");
  var WORD = /[\p{L}\p{M}\p{N}_]+/gu;
  var LIMIT = 200;
  var posts = null;
  var loading = false;

  function words(text) {
    return (text || "").toLowerCase().match(WORD) || [];
  }

  function terms(query) {
    var out = [];
    var parts = query.toLowerCase().split(/\s+/);
    for (var i = 0; i < parts.length; i++) {
      var prefix = /\*$/.test(parts[i]);
      var found = parts[i].match(WORD) || [];
      for (var j = 0; j < found.length; j++) {
        out.push({ word: found[j], prefix: prefix && j === found.length - 1 });
      }
    }
    return out;
  }

  function matches(post, wanted) {
    if (!post._words) post._words = words([post.text, post.name, post.handle].join(" "));
    return wanted.every(function (term) {
      return post._words.some(function (w) {
        return term.prefix ? w.indexOf(term.word) === 0 : w === term.word;
      });
    });
  }

  function safeHref(href) {
    // Relative links written by the archiver, or http(s): nothing else is followed.
    if (typeof href !== "string" || !href) return null;
    if (/^https?:\/\//i.test(href)) return href;
    return /^[a-z][a-z0-9+.-]*:/i.test(href) || href.indexOf("//") === 0 ? null : href;
  }

  function element(tag, className, text) {
    var el = document.createElement(tag);
    if (className) el.className = className;
    if (text) el.textContent = text;
    return el;
  }

  function link(href, text) {
    var safe = safeHref(href);
    if (!safe) return element("span", "", text);
    var a = element("a", "", text);
    a.href = safe;
    if (/^https?:/i.test(safe)) a.rel = "nofollow noopener noreferrer";
    return a;
  }

  function card(post) {
    var li = element("li", "post");
    li.setAttribute("data-status", post.status);
    var head = element("div", "head");
    if (post.name) head.appendChild(element("bdi", "name", post.name));
    if (post.handle) {
      var handle = element("bdi", "handle", "@" + post.handle);
      handle.dir = "ltr";
      head.appendChild(handle);
    }
    head.appendChild(element("span", "status status-" + post.status, post.label));
    li.appendChild(head);
    var text = element("p", "text", post.excerpt || post.key);
    if (post.lang) text.lang = post.lang;
    text.dir = post.dir || "auto";
    li.appendChild(text);
    var meta = element("div", "meta");
    meta.appendChild(element("span", "", post.date || "Date unknown"));
    meta.appendChild(link(post.copy, "Archived copy"));
    li.appendChild(meta);
    if (post.articles && post.articles.length) {
      var list = element("ul", "articles");
      list.setAttribute("aria-label", "Embedded in");
      post.articles.forEach(function (article) {
        var item = element("li");
        item.appendChild(link(article.href, article.label));
        list.appendChild(item);
      });
      if (post.more > 0) {
        // The rest are listed on the archived copy, as on the index pages.
        var more = element("li", "more");
        var count = String(post.more).replace(/\B(?=(\d{3})+(?!\d))/g, ",");
        more.appendChild(link(post.copy, "and " + count + " more " + (post.more === 1 ? "article" : "articles")));
        list.appendChild(more);
      }
      li.appendChild(list);
    }
    return li;
  }

  function show(query) {
    var wanted = terms(query);
    results.textContent = "";
    var searching = wanted.length > 0;
    for (var i = 0; i < listing.length; i++) listing[i].hidden = searching;
    results.hidden = !searching;
    if (!searching) {
      status.textContent = "";
      return;
    }
    if (posts === null) {
      status.textContent = "Loading the archive…";
      return;
    }
    var found = posts.filter(function (post) {
      return matches(post, wanted);
    });
    found.slice(0, LIMIT).forEach(function (post) {
      results.appendChild(card(post));
    });
    var n = found.length;
    status.textContent =
      (n === 1 ? "1 post matches" : n + " posts match") +
      (n > LIMIT ? " (the first " + LIMIT + " shown)" : "") +
      ".";
  }

  function addScript(src, failed) {
    var script = document.createElement("script");
    script.src = src;
    script.onerror = failed;
    document.head.appendChild(script);
  }

  function load() {
    if (posts !== null || loading) return;
    loading = true;
    var chunks = {};
    var names = [];
    var waiting = 0;
    function failed() {
      loading = false;
      status.textContent = "The search index (search-index.js) could not be loaded.";
    }
    window.embedArchiverSearchChunk = function (data) {
      var src = document.currentScript && document.currentScript.getAttribute("src");
      if (!Object.prototype.hasOwnProperty.call(chunks, src) || chunks[src] !== null) return;
      chunks[src] = data.posts || [];
      if (--waiting > 0) return;
      posts = [];
      names.forEach(function (name) {
        posts = posts.concat(chunks[name]);
      });
      show(input.value);
    };
    window.embedArchiverSearchIndex = function (data) {
      names = (data.files || []).filter(function (name) {
        return /^search-[0-9a-z-]+\.js$/.test(name); // files of ours, next to this one
      });
      if (!names.length) {
        posts = [];
        show(input.value);
        return;
      }
      waiting = names.length;
      names.forEach(function (name) {
        chunks[name] = null;
        addScript(name, failed);
      });
    };
    addScript(form.getAttribute("data-index"), failed);
  }

  form.hidden = false;
  form.addEventListener("submit", function (event) {
    event.preventDefault();
    load();
    show(input.value);
  });
  input.addEventListener("focus", load);
  input.addEventListener("input", function () {
    load();
    show(input.value);
  });
})();
