// confcal organizer page: shows the schedule in the viewer's time zone and
// builds feed URLs exactly as the server writes them (FeedPath + feedQuery
// in feed/handlers.go). Without this file the page still works: the server
// renders the schedule in the conference's zone and a link per feed.
"use strict";

document.documentElement.classList.add("js");

(function () {
  // queryEscape is Go's url.QueryEscape: what url.Values.Encode writes.
  function queryEscape(s) {
    return encodeURIComponent(s)
      .replace(/[!'()*]/g, function (c) { return "%" + c.charCodeAt(0).toString(16).toUpperCase(); })
      .replace(/%20/g, "+");
  }

  // encodeQuery mirrors encodeQuery: url.Values.Encode (keys sorted) with
  // "/" and "," left readable.
  function encodeQuery(values) {
    return Object.keys(values).sort().map(function (k) {
      return queryEscape(k) + "=" + queryEscape(values[k]);
    }).join("&").replace(/%2F/g, "/").replace(/%2C/g, ",");
  }

  // feedPath mirrors FeedPath: a path for a single track or speaker,
  // /feed.ics with a query otherwise. Values are sorted and unique.
  function feedPath(tracks, speakers) {
    if (tracks.length === 1 && speakers.length === 0) {
      return "/tracks/" + encodeURIComponent(tracks[0]) + ".ics";
    }
    if (speakers.length === 1 && tracks.length === 0) {
      return "/speakers/" + encodeURIComponent(speakers[0]) + ".ics";
    }
    var v = {};
    if (tracks.length) { v.track = tracks.join(","); }
    if (speakers.length) { v.speaker = speakers.join(","); }
    var q = encodeQuery(v);
    return "/feed.ics" + (q ? "?" + q : "");
  }

  // feedQuery mirrors feedQuery: tz unless it is the conference's zone, and alarm.
  function feedQuery(zone, conferenceZone, alarm) {
    var v = {};
    if (zone && zone !== conferenceZone) { v.tz = zone; }
    if (alarm) { v.alarm = alarm; }
    return encodeQuery(v);
  }

  function join(path, query) {
    if (!query) { return path; }
    return path + (path.indexOf("?") >= 0 ? "&" : "?") + query;
  }

  function webcal(url) {
    return url.replace(/^https?:\/\//, "webcal://");
  }

  function sortedUnique(values) {
    return values.slice().sort().filter(function (v, i, a) { return i === 0 || a[i - 1] !== v; });
  }

  // fold is s for matching names as people type them: without accents, in
  // lower case ("Jürgen" finds "jurgen").
  function fold(s) {
    return s.normalize("NFKD").replace(/[\u0300-\u036f]/g, "").toLowerCase();
  }

  // zoneOK reports whether the browser knows a zone.
  function zoneOK(zone) {
    try {
      new Intl.DateTimeFormat("en", { timeZone: zone });
      return true;
    } catch (e) {
      return false;
    }
  }

  // viewerZone is the zone the browser reports, "" if it cannot tell
  // (Chrome says Etc/Unknown when the system's zone is not one it knows).
  function viewerZone() {
    try {
      var zone = Intl.DateTimeFormat().resolvedOptions().timeZone || "";
      return zone === "Etc/Unknown" ? "" : zone;
    } catch (e) {
      return "";
    }
  }

  // aliases maps other names of zones, in lower case, to the names the
  // page lists them by, as the page gives them in #zone-aliases.
  var aliases = null;

  // canonicalZone is the name the page lists zone by, in any case: browsers
  // report some zones by old names (Chrome says Asia/Calcutta for
  // Asia/Kolkata, Europe/Kiev for Europe/Kyiv), and the page lists Etc/UTC
  // as UTC. Chrome names a system zone of GMT by its offset, +00:00, which
  // is UTC too; other offsets are no zone's name. Other names are returned
  // as they are.
  function canonicalZone(zone) {
    if (/^[+-]00(:?00)?$/.test(zone)) { return "UTC"; }
    if (!aliases) {
      aliases = Object.create(null);
      var data = document.getElementById("zone-aliases");
      var given = {};
      try {
        given = JSON.parse(data ? data.textContent : "{}") || {};
      } catch (e) {
        given = {};
      }
      Object.keys(given).forEach(function (alias) { aliases[alias.toLowerCase()] = String(given[alias]); });
    }
    return aliases[zone.toLowerCase()] || zone;
  }

  // listedZone is the value of the option of select that stands for zone,
  // by its name in any case or by the name the page lists it by
  // (canonicalZone); "" when no option stands for zone.
  function listedZone(select, zone) {
    var byName = Object.create(null);
    Array.prototype.forEach.call(select.options, function (o) { byName[o.value.toLowerCase()] = o.value; });
    return byName[zone.toLowerCase()] || byName[canonicalZone(zone).toLowerCase()] || "";
  }

  // locale writes times and dates in the page's language, with the
  // viewer's region when the browser tells it (en-GB, en-DE): English words,
  // on the 12- or 24-hour clock the viewer is used to.
  var locale = (function () {
    var lang = document.documentElement.lang || "en";
    try {
      var region = new Intl.Locale(navigator.language || "").maximize().region;
      return region ? lang + "-" + region : lang;
    } catch (e) {
      return lang;
    }
  })();

  // localize shows the schedule in zone: times in the viewer's format, and
  // sessions regrouped by day, since a session's date depends on the zone.
  function localize(zone) {
    var days = document.getElementById("days");
    if (!days || !zoneOK(zone)) { return; }
    var timeFmt = new Intl.DateTimeFormat(locale, { hour: "numeric", minute: "2-digit", timeZone: zone });
    var dateKey = new Intl.DateTimeFormat("en-CA", { year: "numeric", month: "2-digit", day: "2-digit", timeZone: zone });
    var dayFmt = new Intl.DateTimeFormat(locale, { weekday: "long", day: "numeric", month: "long", year: "numeric", timeZone: zone });

    Array.prototype.forEach.call(days.querySelectorAll("time.t"), function (el) {
      el.textContent = timeFmt.format(new Date(el.getAttribute("datetime")));
    });

    // A session that ends on a later day says so, as laterDays does.
    var dayNumber = function (d) {
      var p = dateKey.format(d).split("-");
      return Date.UTC(+p[0], +p[1] - 1, +p[2]) / 864e5;
    };
    Array.prototype.forEach.call(days.querySelectorAll(".when"), function (when) {
      var t = when.querySelectorAll("time.t");
      var later = when.querySelector(".later");
      var n = t.length < 2 ? 0 : dayNumber(new Date(new Date(t[1].getAttribute("datetime")).getTime() - 1)) -
        dayNumber(new Date(t[0].getAttribute("datetime")));
      if (n <= 0) {
        if (later) { later.remove(); }
        return;
      }
      if (!later) {
        later = document.createElement("span");
        later.className = "later";
        when.appendChild(later);
      }
      later.textContent = n === 1 ? " (+1 day)" : " (+" + n + " days)";
    });

    var name = document.getElementById("zone-name");
    if (name) { name.textContent = zone; }
    var conf = document.getElementById("zone-conf");
    if (conf) { conf.hidden = zone !== document.body.getAttribute("data-conference-zone"); }

    var slots = Array.prototype.slice.call(days.querySelectorAll(".slot"));
    if (!slots.length) { return; }
    var sections = [];
    var current = null;
    slots.forEach(function (slot) {
      var start = new Date(slot.getAttribute("data-start"));
      var key = dateKey.format(start);
      if (!current || current.key !== key) {
        var section = document.createElement("section");
        section.className = "day";
        section.setAttribute("aria-labelledby", "day-" + key);
        var h = document.createElement("h3");
        h.className = "day-title";
        h.id = "day-" + key;
        var t = document.createElement("time");
        t.setAttribute("datetime", key);
        t.textContent = dayFmt.format(start);
        h.appendChild(t);
        section.appendChild(h);
        current = { key: key, section: section };
        sections.push(section);
      }
      current.section.appendChild(slot);
    });
    days.replaceChildren.apply(days, sections);
  }

  // updates counts the builder's updates: a copy that finishes after the
  // selection changed says nothing, as its text is no longer on the page.
  var updates = 0;

  // copy returns a function that copies text() and says in status how it
  // went.
  function copy(text, status) {
    var asked = 0;
    function done(ok) {
      if (asked !== updates) { return; }
      if (status) {
        status.textContent = ok ? "Copied to the clipboard." : "Select the text and copy it (Ctrl+C or ⌘C).";
      }
    }
    function fallback(source) {
      source.focus();
      source.select();
      var ok = false;
      try { ok = document.execCommand("copy"); } catch (e) { ok = false; }
      done(ok);
    }
    return function (source) {
      asked = updates;
      if (navigator.clipboard && window.isSecureContext) {
        navigator.clipboard.writeText(text()).then(function () { done(true); }, function () { fallback(source); });
      } else {
        fallback(source);
      }
    };
  }

  function setupBuilder(form) {
    var base = form.getAttribute("data-base");
    var conferenceZone = form.getAttribute("data-conference-zone");
    var title = form.getAttribute("data-title");
    var tz = document.getElementById("tz");
    var alarm = document.getElementById("alarm");
    var url = document.getElementById("feed-url");
    var zoneChosen = false;

    document.body.setAttribute("data-conference-zone", conferenceZone);

    // The viewer's zone, when the server offers it; else the conference's,
    // and the hint says why.
    var hint = document.getElementById("tz-hint");
    var hintText = hint.textContent;
    var detected = viewerZone();
    var listed = detected ? listedZone(tz, detected) : "";
    if (listed) {
      tz.value = listed;
    } else {
      hint.textContent = (detected ? "Your browser’s time zone, " + detected + ", is not in this list" :
        "Your browser does not tell its time zone") + ": times are in the conference’s zone, " + tz.value + ", until you pick yours.";
    }

    var embedTheme = document.getElementById("embed-theme");
    if (embedTheme) { embedTheme.addEventListener("change", function () { update(); }); }
    var ruleHint = document.getElementById("feed-rule") ? document.getElementById("feed-rule").textContent : "";

    function checked(name) {
      return Array.prototype.filter.call(form.querySelectorAll('input[name="' + name + '"]'), function (el) {
        return el.checked;
      });
    }

    // rule says which sessions a selection gives: tracks are alternatives,
    // speakers too, and picked together both must hold (Filter.matches).
    function rule(tracks, speakers) {
      var where = tracks.length === 1 ? "in this track" : "in one of these tracks";
      var who = speakers.length === 1 ? "by this speaker" : "by one of these speakers";
      if (tracks.length && speakers.length) { return "sessions " + where + " and " + who; }
      if (tracks.length) { return "sessions " + where; }
      if (speakers.length) { return "sessions " + who; }
      return "";
    }

    // setLink points a subscribe or download link at href, or disables it
    // when the feed has no session to give.
    function setLink(id, href, enabled) {
      var a = document.getElementById(id);
      if (enabled) {
        a.href = href;
        a.removeAttribute("aria-disabled");
      } else {
        a.removeAttribute("href");
        a.setAttribute("aria-disabled", "true");
      }
    }

    function update() {
      // What was copied is no longer what the page shows.
      updates++;
      ["copy-url-status", "copy-embed-status"].forEach(function (id) {
        var status = document.getElementById(id);
        if (status) { status.textContent = ""; }
      });
      var trackBoxes = checked("track");
      var speakerBoxes = checked("speaker");
      var tracks = sortedUnique(trackBoxes.map(function (el) { return el.value; }));
      var speakers = sortedUnique(speakerBoxes.map(function (el) { return el.value; }));
      var zone = tz.value;
      var feed = base + join(feedPath(tracks, speakers), feedQuery(zone, conferenceZone, alarm.value));

      // Mark the sessions the feed holds (Filter.matches): every session
      // when nothing is picked. Only a selection highlights its sessions.
      var count = 0;
      var filtered = tracks.length > 0 || speakers.length > 0;
      var schedule = document.getElementById("schedule");
      Array.prototype.forEach.call(schedule.querySelectorAll(".session"), function (s) {
        var t = s.getAttribute("data-track");
        var ps = (s.getAttribute("data-speakers") || "").split(" ").filter(Boolean);
        var inFeed = (!tracks.length || tracks.indexOf(t) >= 0) &&
          (!speakers.length || ps.some(function (p) { return speakers.indexOf(p) >= 0; }));
        s.classList.toggle("in-feed", inFeed);
        s.classList.toggle("highlighted", inFeed && filtered);
        if (inFeed) { count++; }
      });
      Array.prototype.forEach.call(schedule.querySelectorAll(".slot, .day"), function (el) {
        el.classList.toggle("none-in-feed", !el.querySelector(".session.in-feed"));
      });
      feedCount = count;
      document.getElementById("feed-count").textContent = count === 1 ? "1 session" : count + " sessions";
      showOnlyFeed();

      var ruleText = document.getElementById("feed-rule");
      if (ruleText) {
        var r = rule(tracks, speakers);
        ruleText.textContent = r ? "Your feed holds the " + r + "." : ruleHint;
      }
      // A selection of no session would make an empty feed: say so, and
      // offer no link to it. The whole schedule is offered even before it
      // has sessions.
      var ok = count > 0 || !filtered;
      document.getElementById("feed-empty").textContent = ok ? "" :
        "No session is " + rule(tracks, speakers).replace(/^sessions /, "") +
        ": this feed would stay empty. Pick another track or speaker.";

      // The selection's name, as Schedule.Name writes it; on the page each
      // name is isolated, so that one in a right-to-left script does not
      // reorder its neighbours.
      var byValue = function (a, b) { return a.value < b.value ? -1 : a.value > b.value ? 1 : 0; };
      var dataName = function (el) { return el.getAttribute("data-name"); };
      var trackNames = trackBoxes.sort(byValue).map(dataName);
      var speakerNames = speakerBoxes.sort(byValue).map(dataName);
      var name = [trackNames.join(", "), speakerNames.join(", ")].filter(Boolean).join(" · ");
      var calName = name ? title + " · " + name : title;

      url.value = feed;
      var shown = [];
      [trackNames, speakerNames].filter(function (names) { return names.length; }).forEach(function (names, i) {
        if (i) { shown.push(" · "); }
        names.forEach(function (n, j) {
          if (j) { shown.push(", "); }
          var bdi = document.createElement("bdi");
          bdi.textContent = n;
          shown.push(bdi);
        });
      });
      var feedName = document.getElementById("feed-name");
      if (shown.length) {
        feedName.replaceChildren.apply(feedName, shown);
      } else {
        feedName.textContent = "the whole schedule";
      }
      setLink("link-webcal", webcal(feed), ok);
      setLink("link-apple", webcal(feed), ok);
      // Google refuses a cid that is an https URL (feedLinks.Google).
      setLink("link-google", "https://calendar.google.com/calendar/render?cid=" + queryEscape(webcal(feed)), ok);
      var outlook = "/calendar/0/addfromweb?url=" + queryEscape(feed) + "&name=" + queryEscape(calName);
      setLink("link-outlook", "https://outlook.live.com" + outlook, ok);
      setLink("link-office", "https://outlook.office.com" + outlook, ok);
      setLink("link-download", feed, ok);
      var copyURL = document.getElementById("copy-url");
      if (copyURL) { copyURL.disabled = !ok; }

      // The embed takes the same filter; a zone only when one was chosen,
      // so that visitors otherwise see their own.
      var ev = {};
      if (tracks.length) { ev.track = tracks.join(","); }
      if (speakers.length) { ev.speaker = speakers.join(","); }
      if (zoneChosen && zone !== conferenceZone) { ev.tz = zone; }
      if (embedTheme && embedTheme.value) { ev.theme = embedTheme.value; }
      var eq = encodeQuery(ev);
      var embed = base + "/embed" + (eq ? "?" + eq : "");
      // As embedSnippet writes it.
      var attr = function (s) { return s.replace(/&/g, "&amp;").replace(/"/g, "&quot;"); };
      document.getElementById("embed-snippet").value = '<iframe src="' + attr(embed) + '" title="' + attr(title + " schedule") +
        '" width="100%" height="600" loading="lazy"></iframe>';
      document.getElementById("embed-preview").href = embed;

      // The page's own address keeps the choice, to share or bookmark:
      // preselect reads it back. The zone only when one was chosen.
      var pq = {};
      if (tracks.length) { pq.track = tracks.join(","); }
      if (speakers.length) { pq.speaker = speakers.join(","); }
      if (zoneChosen) { pq.tz = zone; }
      if (alarm.value) { pq.alarm = alarm.value; }
      var here = encodeQuery(pq);
      history.replaceState(history.state, "", window.location.pathname + (here ? "?" + here : "") + window.location.hash);
    }

    // With "only the sessions in my feed" ticked, the schedule hides the
    // others, and says so when none is left.
    var only = document.getElementById("only-feed");
    var feedCount = 0;
    function showOnlyFeed() {
      var on = !!(only && only.checked);
      document.getElementById("schedule").classList.toggle("only-feed", on);
      var none = document.getElementById("none-in-feed");
      if (none) { none.hidden = !on || feedCount > 0; }
    }

    form.addEventListener("submit", function (e) { e.preventDefault(); });
    form.addEventListener("change", function (e) {
      // Once the visitor chooses, what the link asked for is past.
      document.getElementById("preselect-note").textContent = "";
      if (e.target === tz) {
        zoneChosen = true;
        hint.textContent = hintText;
        localize(tz.value);
      }
      update();
    });

    var search = document.getElementById("speaker-search");
    if (search) {
      var none = document.getElementById("speaker-none");
      search.addEventListener("input", function () {
        var words = fold(search.value).split(/\s+/).filter(Boolean);
        var shown = 0;
        Array.prototype.forEach.call(document.querySelectorAll("#speakers .choice"), function (li) {
          var box = li.querySelector("input");
          var text = fold(box.getAttribute("data-name") + " " + box.value);
          // Checked speakers stay visible, so a choice never disappears.
          var match = box.checked || words.every(function (w) { return text.indexOf(w) >= 0; });
          li.hidden = !match;
          if (match) { shown++; }
        });
        none.hidden = shown > 0;
      });
    }

    if (only) { only.addEventListener("change", showOnlyFeed); }

    [["copy-url", "feed-url", "copy-url-status"], ["copy-embed", "embed-snippet", "copy-embed-status"]].forEach(function (ids) {
      var button = document.getElementById(ids[0]);
      var source = document.getElementById(ids[1]);
      var status = document.getElementById(ids[2]);
      if (!button || !source) { return; }
      var run = copy(function () { return source.value; }, status);
      button.addEventListener("click", function () { run(source); });
    });

    preselect(new URLSearchParams(window.location.search));
    localize(tz.value);
    update();

    // preselect picks what a link to the page asks for, in the feed URLs'
    // terms: track and speaker (repeated or comma-separated, by slug or by
    // name, in any case and without accents), tz and alarm. What the page
    // does not offer is named above the builder.
    function preselect(params) {
      var missing = [];
      ["track", "speaker"].forEach(function (kind) {
        var boxes = form.querySelectorAll('input[name="' + kind + '"]');
        params.getAll(kind).join(",").split(",").map(function (v) { return v.trim(); }).filter(Boolean).forEach(function (v) {
          var name = fold(v);
          var slug = name.replace(/[^\p{L}\p{N}]+/gu, "-").replace(/^-+|-+$/g, "");
          var box = Array.prototype.find.call(boxes, function (b) {
            return b.value === slug || fold(b.getAttribute("data-name")) === name;
          });
          if (box) {
            box.checked = true;
          } else {
            missing.push(kind + " “" + v + "”");
          }
        });
      });
      var zone = params.get("tz");
      if (zone) {
        var listed = listedZone(tz, zone);
        if (listed) {
          tz.value = listed;
          zoneChosen = true;
          hint.textContent = hintText;
        } else {
          missing.push("time zone “" + zone + "”");
        }
      }
      var before = params.get("alarm");
      if (before) {
        if (Array.prototype.some.call(alarm.options, function (o) { return o.value === before; })) {
          alarm.value = before;
        } else {
          missing.push("reminder “" + before + "”");
        }
      }
      if (missing.length) {
        document.getElementById("preselect-note").textContent = "The link to this page asks for " + missing.join(", ") +
          ", which this schedule does not offer. Pick from the lists below.";
      }
    }
  }

  document.addEventListener("DOMContentLoaded", function () {
    var form = document.getElementById("builder");
    if (form) {
      setupBuilder(form);
      return;
    }
    // The embed: the zone it was asked for, else the viewer's, named as
    // the page would name it.
    var fixed = document.body.getAttribute("data-fixed-zone");
    var zone = fixed || canonicalZone(viewerZone());
    if (zone) { localize(zone); }
  });
})();
