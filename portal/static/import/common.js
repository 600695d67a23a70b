/* What the import pages share: calling /api/v1/import (JSON, the session cookie and the
 * CSRF header, errors as {message} in the user's language), uploading with progress,
 * and small DOM helpers. Texts come from #import-texts (rendered by the template). */
(function () {
  "use strict";

  var textsElement = document.getElementById("import-texts");
  var T = textsElement ? JSON.parse(textsElement.textContent) : {};

  function fmt(text, values) {
    return String(text).replace(/%\((\w+)\)s/g, function (_, k) {
      return values[k] === undefined || values[k] === null ? "" : values[k];
    });
  }
  function number(n) { return n === null || n === undefined ? "0" : Number(n).toLocaleString("en-US"); }
  function el(id) { return document.getElementById(id); }
  /* An element with a class and text (never HTML: every value from a file is untrusted). */
  function make(tag, className, text) {
    var node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined && text !== null) node.textContent = String(text);
    return node;
  }
  function show(node, visible) { if (node) node.hidden = !visible; }
  function clear(node) { while (node.firstChild) node.removeChild(node.firstChild); }

  function csrfToken(root) {
    var meta = document.querySelector('meta[name="csrf-token"]');
    return (meta && meta.content) || (root && root.dataset.csrf) || "";
  }

  function failure(status, data, fallback) {
    // 401: the session ended (idle too long, logged out in another tab). The API's own answer
    // is a bare "UNAUTHORIZED" in English; say what happened, in the user's language.
    var text = status === 401 ? T.session_ended : (data && data.message) || fallback || T.network;
    var error = new Error(text);
    error.status = status; error.data = data || {};
    return error;
  }
  /* After a 401's message: a link to the login page that comes back to this page (and so to
   * the batch's step: the batch is in the address). */
  function loginLink(box, error) {
    if (!box || !error || error.status !== 401) return;
    var config = document.getElementById("import-config");
    var login = (config && JSON.parse(config.textContent).login) || "/login/";
    var a = make("a", "alert-link import-login", T.log_in_again);
    a.href = login + (login.indexOf("?") < 0 ? "?" : "&") + "next=" + encodeURIComponent(window.location.pathname);
    box.appendChild(document.createTextNode(" "));
    box.appendChild(a);
  }
  function parse(text) {
    try { return text ? JSON.parse(text) : {}; } catch (e) { return { message: text.replace(/<[^>]*>/g, " ").trim().slice(0, 200) }; }
  }

  /* A JSON call: resolves with the body, rejects with an Error whose message is the server's. */
  function client(base, root) {
    function api(path, options) {
      options = options || {};
      var init = { method: options.method || "GET", credentials: "same-origin",
        headers: { "Accept": "application/json", "X-CSRFToken": csrfToken(root) } };
      if (options.body !== undefined) {
        init.headers["Content-Type"] = "application/json";
        init.body = JSON.stringify(options.body);
      }
      return fetch(path.charAt(0) === "/" && path.indexOf(base) === 0 ? path : base + path, init).then(function (response) {
        return response.text().then(function (text) {
          var data = parse(text);
          if (!response.ok) throw failure(response.status, data, response.statusText);
          return data;
        });
      }, function () { throw failure(0, null, T.network); });
    }

    /* POST a file as multipart (field "file"); onProgress(fraction) while it is sent. */
    function upload(path, file, fields, onProgress) {
      return new Promise(function (resolve, reject) {
        var xhr = new XMLHttpRequest();
        var form = new FormData();
        form.append("file", file, file.name);
        Object.keys(fields || {}).forEach(function (k) { if (fields[k] !== null && fields[k] !== "") form.append(k, fields[k]); });
        xhr.open("POST", base + path);
        xhr.setRequestHeader("Accept", "application/json");
        xhr.setRequestHeader("X-CSRFToken", csrfToken(root));
        xhr.upload.addEventListener("progress", function (event) {
          if (event.lengthComputable && onProgress) onProgress(event.loaded / event.total);
        });
        xhr.addEventListener("load", function () {
          var data = parse(xhr.responseText);
          if (xhr.status >= 200 && xhr.status < 300) resolve(data);
          else reject(failure(xhr.status, data, xhr.statusText));
        });
        xhr.addEventListener("error", function () { reject(failure(0, null, T.network)); });
        xhr.send(form);
      });
    }
    return { api: api, upload: upload };
  }

  /* The counts of a batch in one line (preview counts, or what the commit did). */
  function countsLine(batch) {
    var c = batch.counts || {};
    // Not checked yet (uploaded, or its first check running): no counts, not a row of zeros.
    if (!Object.keys(c).length) return "—";
    if (batch.status === "committed" || batch.status === "undone" || c.created !== undefined) {
      return fmt(T.counts_done, { created: number(c.created), updated: number(c.updated), skipped: number(c.skipped) });
    }
    return fmt(T.counts_preview, { new: number(c.new), update: number(c.update), unchanged: number(c.unchanged),
      invalid: number(c.invalid), duplicate: number(c.duplicate) });
  }
  function statusLabel(status) { return T["status_" + status] || status; }
  function when(iso) { return iso ? String(iso).replace("T", " ").slice(0, 16) : ""; }

  /* The table of records an undo refused, with the reason of each. */
  function fillBlocked(tbody, blocked, cardUrl) {
    clear(tbody);
    (blocked || []).forEach(function (b) {
      var tr = make("tr");
      tr.dataset.row = b.row;
      tr.appendChild(make("td", "import-rownum", b.row));
      var td = make("td");
      if (cardUrl && b.id) {
        var a = make("a", "", b.label || b.id);
        a.href = cardUrl.replace("{id}", b.id); a.target = "_blank"; a.rel = "noopener";
        td.appendChild(a);
      } else {
        td.textContent = b.label || b.id || "";
      }
      tr.appendChild(td);
      tr.appendChild(make("td", "import-blocked-reason", b.reason));
      tbody.appendChild(tr);
    });
  }

  window.portalImport = {
    T: T, fmt: fmt, number: number, el: el, make: make, show: show, clear: clear, client: client,
    countsLine: countsLine, statusLabel: statusLabel, when: when, fillBlocked: fillBlocked, loginLink: loginLink,
  };
})();
