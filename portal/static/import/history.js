/* The import history (templates/portal/import_history.html): the batches the API lets
 * this user see, newest first, a page at a time, with a link to each batch's page, its
 * error report and an Undo button. An undo the server refuses because records were changed
 * since lists those records under the batch, with the choice to undo the others. */
(function () {
  "use strict";

  var root = document.getElementById("import-history-page");
  if (!root || !window.portalImport) return;
  var P = window.portalImport, T = P.T, el = P.el, make = P.make, show = P.show, fmt = P.fmt, number = P.number;
  var CONFIG = JSON.parse(el("import-config").textContent);
  var http = P.client(root.dataset.api, root);
  var canImport = !!root.dataset.canImport;
  var state = { page: 1, size: null, total: 0, resource: "", loads: 0 };

  function message(text, error) {
    var box = el("import-message");
    box.textContent = text || "";
    P.loginLink(box, error);
    show(box, !!text);
  }
  function info(resource) { return (CONFIG.resources || {})[resource] || {}; }
  function mayImport(resource) { return canImport && (CONFIG.allowed || []).indexOf(resource) >= 0; }

  function load() {
    var params = new URLSearchParams({ page: state.page });
    if (state.resource) params.set("resource", state.resource);
    root.dataset.state = "loading";
    return http.api("/batches?" + params.toString()).then(function (data) {
      var batches = data.batches || [];
      state.total = data.total || 0;
      if (state.page === 1 && batches.length) state.size = Math.max(state.size || 0, batches.length);
      draw(batches);
      message("");
      root.dataset.state = "ready";
      root.dataset.loads = String(++state.loads);
    }, function (error) {
      root.dataset.state = "error";
      message(error.message, error);
    });
  }

  function draw(batches) {
    var tbody = el("import-history").tBodies[0];
    P.clear(tbody);
    if (!batches.length) {
      var td = make("td", "text-muted text-center", T.no_batches);
      td.colSpan = 7;
      var tr0 = make("tr");
      tr0.appendChild(td);
      tbody.appendChild(tr0);
    }
    batches.forEach(function (b) { tbody.appendChild(row(b)); });
    var pages = Math.max(1, Math.ceil(state.total / (state.size || Math.max(1, batches.length))));
    el("import-page-label").textContent = fmt(T.page_of, { page: number(state.page), pages: number(pages) });
    el("import-prev").disabled = state.page <= 1;
    el("import-next").disabled = state.page >= pages;
  }

  function row(b) {
    var tr = make("tr", "import-history-row");
    tr.dataset.batch = b.id;
    tr.dataset.status = b.status;
    var file = make("td", "import-history-file");
    var page = (b.links && b.links.page) || ("/import/batches/" + b.id);
    if (mayImport(b.resource)) {
      var a = make("a", "", b.file_name || ("#" + b.id));
      a.href = page;
      file.appendChild(a);
    } else {
      file.textContent = b.file_name || ("#" + b.id);
    }
    tr.appendChild(file);
    tr.appendChild(make("td", "", b.username || ""));
    tr.appendChild(make("td", "", P.when(b.created_at)));
    tr.appendChild(make("td", "", info(b.resource).label || b.resource));
    tr.appendChild(make("td", "import-history-counts", P.countsLine(b)));
    var status = make("td", "import-history-status");
    // The page's own label ("Checked"): the API's status_label is worded for a sentence ("checked").
    status.appendChild(make("span", "label label-" + labelKind(b.status), P.statusLabel(b.status)));
    if (b.error) status.appendChild(make("div", "text-danger small", b.error));
    tr.appendChild(status);
    var actions = make("td", "import-history-actions");
    var c = b.counts || {};
    if ((c.invalid || 0) + (c.duplicate || 0) > 0 && b.links && b.links.errors) {
      var report = make("a", "btn btn-default btn-xs import-history-errors");
      report.href = b.links.errors;
      report.setAttribute("download", "");
      report.appendChild(make("i", "fa fa-download"));
      report.appendChild(document.createTextNode(" " + T.error_report));
      actions.appendChild(report);
    }
    if (b.can_undo) {
      var undo = make("button", "btn btn-warning btn-xs import-history-undo");
      undo.type = "button";
      undo.appendChild(make("i", "fa fa-undo"));
      undo.appendChild(document.createTextNode(" " + T.undo));
      undo.addEventListener("click", function () { undoBatch(b, tr, false, undo); });
      actions.appendChild(undo);
    }
    tr.appendChild(actions);
    return tr;
  }
  function labelKind(status) {
    return { committed: "success", undone: "default", failed: "danger", previewed: "info", uploaded: "default" }[status] || "warning";
  }

  function undoBatch(b, tr, partial, button) {
    if (!partial && !window.confirm(T.undo_confirm)) return;
    if (button) button.disabled = true;
    message("");
    http.api("/batches/" + b.id + "/undo", { method: "POST", body: { partial: !!partial } }).then(function () {
      load();
    }, function (error) {
      if (button) button.disabled = false;
      var blocked = error.data && error.data.blocked;
      if (error.status === 409 && blocked && blocked.length) showBlocked(b, tr, error.message, blocked);
      else message(error.message, error);
    });
  }
  function showBlocked(b, tr, text, blocked) {
    var next = tr.nextSibling;
    if (next && next.classList && next.classList.contains("import-history-blocked")) next.parentNode.removeChild(next);
    var holder = make("tr", "import-history-blocked");
    holder.dataset.batch = b.id;
    var td = make("td");
    td.colSpan = 7;
    td.appendChild(make("strong", "", text));
    td.appendChild(make("p", "", fmt(T.undo_blocked, { n: number(blocked.length) })));
    var table = make("table", "table table-condensed");
    var tbody = make("tbody");
    table.appendChild(tbody);
    P.fillBlocked(tbody, blocked, info(b.resource).card);
    td.appendChild(table);
    var rest = make("button", "btn btn-warning btn-sm import-history-undo-rest", T.undo_rest);
    rest.type = "button";
    rest.addEventListener("click", function () { undoBatch(b, tr, true, rest); });
    td.appendChild(rest);
    holder.appendChild(td);
    tr.parentNode.insertBefore(holder, tr.nextSibling);
  }

  el("import-history-resource").addEventListener("change", function (event) {
    state.resource = event.target.value; state.page = 1; load();
  });
  el("import-history-refresh").addEventListener("click", load);
  el("import-prev").addEventListener("click", function () { if (state.page > 1) { state.page -= 1; load(); } });
  el("import-next").addEventListener("click", function () { state.page += 1; load(); });
  window.portalImportHistory = { state: state, reload: load };
  load();
})();
