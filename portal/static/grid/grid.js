/* The spreadsheet grid (客户一览表): Tabulator draws the table (frozen columns, moving and
 * resizing columns, header sort and filters); this script adds what makes it work like
 * Excel — an active cell and ranges, the keyboard, typing into cells, paste from and copy
 * to Excel, fill down, clearing, undo/redo on the server, new records typed into the last
 * row, and saved layouts. Every write goes to /api/v1/grid/<resource>/batches, where the
 * security gate, the field registry's validation and the change history apply.
 *
 * Rows carry a client key (_key): "r<id>" for stored records, "n<k>" for drafts, "blank"
 * for the empty last row. Cell states (saving / saved / invalid / failed / conflict) are
 * kept per row key and field and drawn by the cell formatter, so they survive re-renders. */
(function () {
  "use strict";

  var root = document.getElementById("grid-page");
  if (!root) return;
  var API = root.dataset.api;
  var RESOURCE = root.dataset.resource;
  var T = JSON.parse(document.getElementById("grid-texts").textContent);
  var BATCH_ROWS = 200;            // rows per batch request (the server takes up to 500)
  var DRAFTS_KEY = "portal.grid.drafts." + RESOURCE;

  var schema = null, columnsByField = {}, table = null;
  var state = {
    page: 1, size: 100, q: "", sort: [], filters: {}, total: null, grandTotal: null, hasMore: false,
    signature: null, active: { r: 0, c: 0 }, anchor: { r: 0, c: 0 }, editing: null,
    cells: {}, rowMarks: {}, undo: [], redo: [], failed: [], pending: 0, draftSeq: 0, openedCard: null,
  };
  var painted = [];
  var chain = Promise.resolve();
  // From the page's URL: a drill-down (?drill=<name>&d.<param>=…, portal/analysis/drill.py),
  // passed on to rows, count and export until its chip is removed, and f.<field>=… as the
  // initial header filters (they replace the saved layout's filters).
  var pageArgs = new URLSearchParams(window.location.search);
  state.drill = null;
  if (pageArgs.get("drill")) {
    state.drill = [["drill", pageArgs.get("drill")]];
    pageArgs.forEach(function (v, k) { if (k.indexOf("d.") === 0) state.drill.push([k, v]); });
  }
  var urlFilters = {};
  pageArgs.forEach(function (v, k) { if (k.indexOf("f.") === 0 && v !== "") urlFilters[k.slice(2)] = v; });

  // -- small helpers -----------------------------------------------------------------------
  function fmt(text, values) {
    return String(text).replace(/%\((\w+)\)s/g, function (_, k) { return values[k] === undefined ? "" : values[k]; });
  }
  function number(n) { return n === null || n === undefined ? "" : Number(n).toLocaleString("en-US"); }
  function uuid() {
    if (window.crypto && crypto.randomUUID) return crypto.randomUUID();
    return "b" + Date.now().toString(36) + Math.random().toString(36).slice(2, 12);
  }
  function el(id) { return document.getElementById(id); }
  function escapeHtml(text) {
    return String(text === null || text === undefined ? "" : text).replace(/[&<>"']/g, function (c) {
      return { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[c];
    });
  }
  function api(path, options) {
    options = options || {};
    var init = { method: options.method || "GET", credentials: "same-origin", headers: { "Accept": "application/json" } };
    if (options.body !== undefined) {
      init.headers["Content-Type"] = "application/json";
      init.body = JSON.stringify(options.body);
    }
    return fetch(API + path, init).then(function (response) {
      return response.text().then(function (text) {
        var data = null;
        try { data = text ? JSON.parse(text) : {}; } catch (e) { data = { message: text.slice(0, 200) }; }
        if (!response.ok) {
          var error = new Error((data && data.message) || response.statusText);
          error.status = response.status; error.data = data;
          throw error;
        }
        return data;
      });
    });
  }
  function status(text, kind) {
    var box = el("grid-status");
    box.className = "grid-status" + (kind ? " grid-status-" + kind : "");
    box.innerHTML = "";
    if (!text) return;
    var span = document.createElement("span");
    span.textContent = text;
    box.appendChild(span);
    if (kind === "failed" && state.failed.length) {
      var retry = document.createElement("button");
      retry.type = "button"; retry.className = "btn btn-xs btn-warning"; retry.id = "grid-retry";
      retry.textContent = T.retry;
      retry.addEventListener("click", retryFailed);
      box.appendChild(retry);
    }
  }

  // -- values: what a cell shows, what copying it gives -----------------------------------
  function choiceLabel(col, value) {
    if (!col.choices) return value;
    for (var i = 0; i < col.choices.length; i++) if (col.choices[i].value === value) return col.choices[i].label;
    return value;
  }
  function cellText(col, value) {
    if (value === null || value === undefined) return "";
    if (col.type === "relation") return typeof value === "object" ? (value.label || "") : String(value);
    if (col.type === "choice") return choiceLabel(col, value);
    if (col.type === "bool") return value === true ? T.yes : value === false ? T.no : String(value);
    return String(value);
  }
  function displayText(col, value) {
    var text = cellText(col, value);
    if (col.type === "money" && text !== "" && !isNaN(Number(text)) && !col.masked) {
      return Number(text).toLocaleString("en-US", { minimumFractionDigits: 2, maximumFractionDigits: 2 });
    }
    if (col.type === "datetime" && text.indexOf("T") === 10) return text.replace("T", " ").slice(0, 16);
    return text;
  }
  function cellState(key, field) { return (state.cells[key] || {})[field]; }
  function setCellState(key, field, value) {
    if (!state.cells[key]) state.cells[key] = {};
    if (value) state.cells[key][field] = value; else delete state.cells[key][field];
  }

  function formatCell(cell) {
    var field = cell.getField(), col = columnsByField[field], data = cell.getRow().getData();
    var element = cell.getElement(), text = displayText(col, cell.getValue());
    var st = cellState(data._key, field);
    element.classList.remove("cell-saving", "cell-saved", "cell-invalid", "cell-failed", "cell-conflict", "cell-required");
    element.removeAttribute("title");
    element.dataset.state = st ? st.state : "";
    if (st) {
      element.classList.add("cell-" + st.state);
      if (st.message) element.title = st.message;
    }
    if (!col.editable) element.classList.add("grid-readonly");
    if (col.type === "int" || col.type === "decimal" || col.type === "money") element.classList.add("grid-number");
    return escapeHtml(text);
  }
  function formatRowHead(cell) {
    var data = cell.getRow().getData();
    if (data._key === "blank") return '<span class="grid-new" title="' + escapeHtml(T.new_row) + '">*</span>';
    if (!data.id) return '<span class="grid-draft-mark" title="' + escapeHtml(T.draft) + '">✎</span>';
    return '<a class="grid-open" href="' + escapeHtml(schema.card_url.replace("{id}", data.id)) +
      '" target="_blank" rel="noopener" title="' + escapeHtml(T.open_card) + '"><i class="fa fa-external-link"></i></a>';
  }
  function rowFormatter(row) {
    var data = row.getData(), element = row.getElement();
    element.dataset.key = data._key;
    element.classList.toggle("grid-draft", !data.id && data._key !== "blank");
    element.classList.toggle("grid-blank", data._key === "blank");
    var mark = state.rowMarks[data._key];
    element.classList.toggle("grid-row-moved", !!mark);
    if (mark) element.title = T.stale_position; else element.removeAttribute("title");
  }

  // -- columns -------------------------------------------------------------------------------
  function headerFilterFor(col) {
    // A masked column takes no filter (the server refuses one: the rows would give its values away).
    if (col.masked) return {};
    var base = { headerFilterPlaceholder: T.filter_placeholder };
    if (col.type === "choice" && col.choices) {
      var values = col.choices.map(function (c) { return { label: c.label, value: c.value }; });
      return Object.assign(base, { headerFilter: "list", headerFilterPlaceholder: "",
        headerFilterParams: { values: values, multiselect: true, clearable: true } });
    }
    if (col.type === "bool") {
      return Object.assign(base, { headerFilter: "list", headerFilterPlaceholder: "",
        headerFilterParams: { values: [{ label: T.yes, value: "1" }, { label: T.no, value: "0" }], clearable: true } });
    }
    return Object.assign(base, { headerFilter: "input", headerFilterParams: { elementAttributes: { title: T.filter_hint } } });
  }
  function columnDef(col, layout) {
    var def = {
      title: col.label, field: col.field, frozen: !!col.frozen, headerSort: col.sortable !== false,
      formatter: formatCell, width: (layout && layout.width) || col.width || 120, minWidth: 40,
      visible: layout && layout.visible !== undefined ? !!layout.visible : !!col.visible,
      headerTooltip: col.help || col.label, resizable: true,
    };
    return Object.assign(def, headerFilterFor(col));
  }
  function columnDefs(layout) {
    var order = (layout && layout.columns) || [];
    var byField = {};
    order.forEach(function (c) { byField[c.field] = c; });
    var cols = schema.columns.slice();
    var rank = {};
    order.forEach(function (c, i) { rank[c.field] = i; });
    cols.sort(function (a, b) {
      if (a.frozen !== b.frozen) return a.frozen ? -1 : 1;  // frozen columns stay on the left
      var ra = rank[a.field] === undefined ? 1e6 + schema.columns.indexOf(a) : rank[a.field];
      var rb = rank[b.field] === undefined ? 1e6 + schema.columns.indexOf(b) : rank[b.field];
      return ra - rb;
    });
    var defs = [{ title: "", field: "_rowhead", frozen: true, headerSort: false, width: 38, minWidth: 38,
      resizable: false, formatter: formatRowHead, cssClass: "grid-rowhead", hozAlign: "center" }];
    return defs.concat(cols.map(function (c) { return columnDef(c, byField[c.field]); }));
  }
  function dataColumns() {
    return table.getColumns().filter(function (c) { return c.getField() !== "_rowhead" && c.isVisible(); });
  }
  function rows() { return table.getRows("active"); }

  // -- loading -------------------------------------------------------------------------------
  function queryParams(withPage) {
    var params = new URLSearchParams();
    if (withPage) { params.set("page", state.page); params.set("size", state.size); }
    if (state.sort.length) params.set("sort", state.sort.map(function (s) { return (s.dir === "desc" ? "-" : "") + s.field; }).join(","));
    Object.keys(state.filters).forEach(function (f) { params.set("f." + f, state.filters[f]); });
    if (state.q) params.set("q", state.q);
    (state.drill || []).forEach(function (p) { params.set(p[0], p[1]); });
    return params;
  }
  function showDrill(info) {
    var chip = el("grid-drill");
    if (!chip) return;
    chip.hidden = !(state.drill && info);
    // A drill-down the server refused (a stale or edited link) keeps its chip, with the reason,
    // so the clerk can remove it instead of facing an empty grid.
    var failed = !chip.hidden && !!info.error;
    var label = chip.querySelector(".label");
    label.classList.toggle("label-info", !failed);
    label.classList.toggle("label-danger", failed);
    if (!chip.hidden) el("grid-drill-label").textContent = failed ? fmt(T.drill_failed, { reason: info.error }) : fmt(T.drill, { label: info.label });
  }
  function removeDrill() {
    state.drill = null;
    showDrill(null);
    var args = new URLSearchParams(window.location.search);
    Array.from(args.keys()).forEach(function (k) { if (k === "drill" || k.indexOf("d.") === 0) args.delete(k); });
    var search = args.toString();
    window.history.replaceState(null, "", window.location.pathname + (search ? "?" + search : ""));
    state.signature = null;
    reload();
  }
  function filtersFrom(list) {
    var filters = {};
    (list || []).forEach(function (f) {
      var value = Array.isArray(f.value) ? f.value.join("|") : String(f.value === null || f.value === undefined ? "" : f.value);
      if (value !== "") filters[f.field] = value;
    });
    return filters;
  }
  /* Tabulator calls this for every load (first load, header sort, header filter, setData):
   * the page, search and counts are the grid's own state. */
  function requestRows(url, config, params) {
    state.sort = (params.sort || []).map(function (s) { return { field: s.field, dir: s.dir }; });
    state.filters = filtersFrom(params.filter);
    var signature = JSON.stringify([state.sort, state.filters, state.q, state.size, state.drill]);
    if (signature !== state.signature) {
      if (state.signature !== null) state.page = 1;
      state.signature = signature;
      state.total = null;
      countRows();
    }
    var query = queryParams(true);
    query.set("count", "0");
    status(T.loading);
    state.loading = true;
    return api("rows?" + query.toString()).then(function (result) {
      state.loading = false;
      state.hasMore = !!result.has_more;
      state.rowMarks = {};
      showDrill(result.drill);
      status("");
      updatePager();
      saveLayoutSoon();
      var data = result.rows.map(function (r) { r._key = "r" + r.id; return r; });
      return data.concat(loadDrafts(), [blankRow()]);
    }, function (error) {
      state.loading = false;
      status(fmt(T.load_failed, { reason: error.message }), "failed");
      if (state.drill) showDrill({ error: error.message });
      throw error;
    });
  }
  function countRows() {
    var signature = state.signature;
    var filtered = Object.keys(state.filters).length || state.q || state.drill;
    api("count?" + queryParams(false).toString()).then(function (result) {
      if (signature !== state.signature) return;
      state.total = result.total;
      if (!filtered) state.grandTotal = result.total;
      updatePager();
    }, function () {});
    if (filtered && state.grandTotal === null) {
      api("count").then(function (result) { state.grandTotal = result.total; updatePager(); }, function () {});
    }
  }
  function lastPage() { return state.total === null ? null : Math.max(1, Math.ceil(state.total / state.size)); }
  function updatePager() {
    var filtered = Object.keys(state.filters).length || state.q || state.drill;
    var counter = el("grid-counter");
    if (state.total === null) counter.textContent = T.counting;
    else if (filtered && state.grandTotal !== null) counter.textContent = fmt(T.of, { shown: number(state.total), total: number(state.grandTotal) });
    else counter.textContent = number(state.total);
    var last = lastPage();
    el("grid-page-label").textContent = last === null ? fmt(T.page, { page: state.page }) : fmt(T.page_of, { page: state.page, pages: last });
    el("grid-prev").disabled = state.page <= 1;
    el("grid-next").disabled = last === null ? !state.hasMore : state.page >= last;
  }
  function reload(keepPage) {
    if (!keepPage) state.page = 1;
    return table.setData();
  }
  function blankRow() { return { _key: "blank" }; }

  // -- drafts: new records not accepted yet, kept in this browser until they are ---------------
  function loadDrafts() {
    var stored = [];
    try { stored = JSON.parse(localStorage.getItem(DRAFTS_KEY) || "[]"); } catch (e) { stored = []; }
    return stored.map(function (d) {
      var row = Object.assign({}, d.values, { _key: d.key });
      state.draftSeq = Math.max(state.draftSeq, parseInt(String(d.key).slice(1), 10) || 0);
      (d.invalid || []).forEach(function (f) {
        if (!cellState(d.key, f.field)) setCellState(d.key, f.field, { state: "invalid", message: f.message });
      });
      return row;
    });
  }
  function storeDrafts() {
    var drafts = [];
    table.getRows().forEach(function (row) {
      var data = row.getData();
      if (data.id || data._key === "blank") return;
      var values = {}, invalid = [];
      Object.keys(data).forEach(function (k) { if (k[0] !== "_" && data[k] !== null && data[k] !== "") values[k] = data[k]; });
      Object.keys(state.cells[data._key] || {}).forEach(function (f) {
        var st = cellState(data._key, f);
        if (st.state === "invalid") invalid.push({ field: f, message: st.message });
      });
      drafts.push({ key: data._key, values: values, invalid: invalid });
    });
    try { localStorage.setItem(DRAFTS_KEY, JSON.stringify(drafts)); } catch (e) { /* private mode: drafts live on the page only */ }
  }
  function newDraftKey() { state.draftSeq += 1; return "n" + state.draftSeq; }
  function ensureBlankRow() {
    if (!table.getRow("blank")) return table.addRow(blankRow(), false);
    return Promise.resolve();
  }
  /* Typing into the blank last row makes it a draft; a fresh blank row appears below. */
  function promoteBlank() {
    var row = table.getRow("blank");
    if (!row) return null;
    var key = newDraftKey();
    row.update({ _key: key });
    table.addRow(blankRow(), false).then(paint);
    return key;
  }

  // -- selection -------------------------------------------------------------------------------
  function clamp(v, lo, hi) { return Math.max(lo, Math.min(hi, v)); }
  function bounds() {
    var a = state.anchor, b = state.active;
    return { r0: Math.min(a.r, b.r), r1: Math.max(a.r, b.r), c0: Math.min(a.c, b.c), c1: Math.max(a.c, b.c) };
  }
  function cellElement(r, c) {
    var rs = rows(), cs = dataColumns();
    if (!rs[r] || !cs[c]) return null;
    var cell = rs[r].getCell(cs[c].getField());
    return cell ? cell.getElement() : null;
  }
  function paint() {
    painted.forEach(function (e) { e.classList.remove("grid-sel", "grid-active"); });
    painted = [];
    if (!table) return;
    var rs = rows(), cs = dataColumns();
    if (!rs.length || !cs.length) return;
    state.active.r = clamp(state.active.r, 0, rs.length - 1); state.active.c = clamp(state.active.c, 0, cs.length - 1);
    state.anchor.r = clamp(state.anchor.r, 0, rs.length - 1); state.anchor.c = clamp(state.anchor.c, 0, cs.length - 1);
    var b = bounds();
    for (var r = b.r0; r <= b.r1; r++) {
      for (var c = b.c0; c <= b.c1; c++) {
        var cell = rs[r].getCell(cs[c].getField());
        if (!cell) continue;
        var e = cell.getElement();
        e.classList.add("grid-sel");
        painted.push(e);
      }
    }
    var active = cellElement(state.active.r, state.active.c);
    if (active) { active.classList.add("grid-active"); painted.push(active); }
    showCellBar();
  }
  function activeCell() {
    var rs = rows(), cs = dataColumns();
    var row = rs[state.active.r], col = cs[state.active.c];
    if (!row || !col) return null;
    return { row: row, column: col, field: col.getField(), spec: columnsByField[col.getField()], data: row.getData() };
  }
  function showCellBar() {
    var bar = el("grid-cellbar"), a = activeCell();
    if (!a) { bar.textContent = ""; return; }
    var st = cellState(a.data._key, a.field);
    bar.innerHTML = "";
    var label = document.createElement("strong"); label.textContent = a.spec.label + "："; bar.appendChild(label);
    var value = document.createElement("span"); value.className = "grid-cellbar-value";
    value.textContent = cellText(a.spec, a.data[a.field]); bar.appendChild(value);
    if (st && st.message) {
      var msg = document.createElement("span"); msg.className = "grid-cellbar-message cell-" + st.state;
      msg.id = "grid-cell-message"; msg.textContent = st.message; bar.appendChild(msg);
    }
  }
  function scrollIntoView() {
    var element = cellElement(state.active.r, state.active.c);
    if (!element) return;
    var holder = table.rowManager.element, rowEl = element.parentElement;
    var top = rowEl.offsetTop, height = rowEl.offsetHeight;
    if (top < holder.scrollTop) holder.scrollTop = top;
    else if (top + height > holder.scrollTop + holder.clientHeight) holder.scrollTop = top + height - holder.clientHeight;
    if (element.classList.contains("tabulator-frozen")) return;
    var frozen = 0;
    table.getColumns().forEach(function (c) {
      if (c.isVisible() && c.getDefinition().frozen) frozen += c.getWidth();
    });
    var left = element.offsetLeft, width = element.offsetWidth;
    if (left - frozen < holder.scrollLeft) holder.scrollLeft = left - frozen;
    else if (left + width > holder.scrollLeft + holder.clientWidth) holder.scrollLeft = left + width - holder.clientWidth;
  }
  function moveTo(r, c, extend) {
    var rs = rows(), cs = dataColumns();
    state.active = { r: clamp(r, 0, rs.length - 1), c: clamp(c, 0, cs.length - 1) };
    if (!extend) state.anchor = { r: state.active.r, c: state.active.c };
    paint();
    scrollIntoView();
  }
  function pageRows() {
    var holder = table.rowManager.element, first = rows()[0];
    var h = first ? first.getElement().offsetHeight || 30 : 30;
    return Math.max(1, Math.floor(holder.clientHeight / h) - 1);
  }

  // -- editing -------------------------------------------------------------------------------
  function refuseReason(spec) { return spec.masked ? T.masked : T.readonly; }
  function canEdit(spec, data) {
    if (!spec.editable) return false;
    if (!data.id && !schema.can_create) return false;
    return true;
  }
  function startEdit(initial) {
    var a = activeCell();
    if (!a) return;
    if (!canEdit(a.spec, a.data)) { status(refuseReason(a.spec), "warning"); return; }
    var element = a.row.getCell(a.field).getElement();
    var input = document.createElement(a.spec.type === "longtext" ? "textarea" : "input");
    input.className = "grid-editor";
    input.value = initial === null ? cellText(a.spec, a.data[a.field]) : initial;
    element.innerHTML = "";
    element.appendChild(input);
    element.classList.add("grid-editing");
    state.editing = { key: a.data._key, field: a.field, input: input, element: element, spec: a.spec,
      original: cellText(a.spec, a.data[a.field]), picked: null, typed: initial !== null };
    input.focus();
    var end = input.value.length;
    input.setSelectionRange(end, end);
    input.addEventListener("keydown", editorKey);
    input.addEventListener("input", function () { state.editing && (state.editing.picked = null); suggest(); });
    input.addEventListener("blur", function () { setTimeout(function () { if (state.editing && state.editing.input === input) finishEdit(true); }, 150); });
    if (a.spec.choices || a.spec.type === "relation" || a.spec.type === "bool") suggest();
  }
  function editorKey(e) {
    var ed = state.editing;
    if (!ed) return;
    var list = el("grid-suggest");
    if ((e.key === "ArrowDown" || e.key === "ArrowUp") && list && !list.hidden && list.children.length) {
      e.preventDefault();
      var items = Array.prototype.slice.call(list.children), i = items.findIndex(function (x) { return x.classList.contains("active"); });
      i = e.key === "ArrowDown" ? Math.min(items.length - 1, i + 1) : Math.max(0, i - 1);
      items.forEach(function (x, j) { x.classList.toggle("active", j === i); });
      return;
    }
    if (e.key === "Enter" && !e.altKey && !(ed.spec.type === "longtext" && e.shiftKey)) {
      e.preventDefault(); pickActiveSuggestion(); finishEdit(true); moveTo(state.active.r + (e.shiftKey ? -1 : 1), state.active.c); root.focusGrid();
    } else if (e.key === "Tab") {
      e.preventDefault(); pickActiveSuggestion(); finishEdit(true); moveTo(state.active.r, state.active.c + (e.shiftKey ? -1 : 1)); root.focusGrid();
    } else if (e.key === "Escape") {
      e.preventDefault(); finishEdit(false); root.focusGrid();
    } else if (ed.typed && (e.key === "ArrowDown" || e.key === "ArrowUp")) {
      e.preventDefault(); finishEdit(true); moveTo(state.active.r + (e.key === "ArrowDown" ? 1 : -1), state.active.c); root.focusGrid();
    }
    e.stopPropagation();
  }
  function finishEdit(commit) {
    var ed = state.editing;
    if (!ed) return;
    state.editing = null;
    hideSuggest();
    var text = ed.input.value;
    ed.element.classList.remove("grid-editing");
    var row = table.getRow(ed.key);
    if (row) row.reformat();
    if (!commit) { paint(); return; }
    var value = ed.picked ? ed.picked : text;
    if (!ed.picked && text === ed.original) { paint(); return; }
    writeCells([{ key: ed.key, field: ed.field, value: value }], { kind: "edit" });
  }

  // Suggestions for choice, yes/no and relation cells (type-ahead from the server for relations).
  function lookup(col, term) {
    var url = col.lookup + (col.lookup.indexOf("?") < 0 ? "?" : "&") + "q=" + encodeURIComponent(term);
    return fetch(url, { credentials: "same-origin" }).then(function (r) { return r.json(); }).then(function (data) {
      return (data.result || []).map(function (x) { return { label: x.label, value: x.id }; });
    });
  }
  var suggestTimer = null;
  function suggest() {
    var ed = state.editing;
    if (!ed) return;
    var spec = ed.spec, term = ed.input.value.trim().toLowerCase();
    clearTimeout(suggestTimer);
    if (spec.type === "relation" && spec.lookup) {
      suggestTimer = setTimeout(function () {
        lookup(spec, ed.input.value.trim()).then(function (items) {
          if (state.editing === ed) showSuggest(items.map(function (x) { return { label: x.label, value: { id: x.value, label: x.label } }; }));
        });
      }, 150);
      return;
    }
    var choices = spec.type === "bool" ? [{ label: T.yes, value: true }, { label: T.no, value: false }] :
      (spec.choices || []).map(function (c) { return { label: c.label, value: c.value }; });
    showSuggest(choices.filter(function (c) { return !term || c.label.toLowerCase().indexOf(term) >= 0 || String(c.value).toLowerCase() === term; }));
  }
  function showSuggest(items) {
    var ed = state.editing;
    var list = el("grid-suggest");
    if (!list) {
      list = document.createElement("ul"); list.id = "grid-suggest"; list.className = "grid-suggest dropdown-menu";
      document.body.appendChild(list);
      list.addEventListener("mousedown", function (e) {
        var li = e.target.closest("li");
        if (!li || !state.editing) return;
        e.preventDefault();
        state.editing.picked = li._value;
        state.editing.input.value = li.textContent;
        finishEdit(true); root.focusGrid();
      });
    }
    list.innerHTML = "";
    items.slice(0, 20).forEach(function (item, i) {
      var li = document.createElement("li"); li.textContent = item.label; li._value = item.value;
      if (i === 0 && ed.input.value.trim()) li.classList.add("active");
      list.appendChild(li);
    });
    var rect = ed.element.getBoundingClientRect();
    list.style.left = (rect.left + window.scrollX) + "px";
    list.style.top = (rect.bottom + window.scrollY) + "px";
    list.style.display = "block";
    list.hidden = !items.length;
  }
  function hideSuggest() { var list = el("grid-suggest"); if (list) { list.hidden = true; list.style.display = "none"; } }
  function pickActiveSuggestion() {
    var list = el("grid-suggest"), ed = state.editing;
    if (!list || list.hidden || !ed) return;
    var active = list.querySelector("li.active");
    if (active) { ed.picked = active._value; ed.input.value = active.textContent; }
  }

  // -- writing: every change is a batch, one undo step ---------------------------------------
  /* cells: [{key, field, value}] — value as typed/pasted (text), or a picked object/boolean. */
  function writeCells(cells, options) {
    options = options || {};
    var byRow = {}, order = [], refused = 0;
    cells.forEach(function (cell) {
      var spec = columnsByField[cell.field];
      var key = cell.key === "blank" ? (promoteBlankKey()) : cell.key;
      var row = table.getRow(key);
      if (!row) return;
      if (!canEdit(spec, row.getData())) { refused += 1; return; }
      if (!byRow[key]) { byRow[key] = {}; order.push(key); }
      byRow[key][cell.field] = cell.value;
      var shown = {};
      shown[cell.field] = cell.value && typeof cell.value === "object" ? cell.value :
        (spec.type === "bool" && typeof cell.value === "boolean") ? cell.value : cell.value;
      row.update(shown);
      setCellState(key, cell.field, { state: "saving", message: T.saving });
    });
    if (refused) status(fmt(T.cells_refused, { n: refused }), "warning");
    if (!order.length) { paint(); return Promise.resolve(null); }
    order.forEach(function (key) { var row = table.getRow(key); if (row) row.reformat(); });
    paint();
    var changes = order.map(function (key) { return { key: key, values: byRow[key] }; });
    var chunks = [];
    for (var i = 0; i < changes.length; i += BATCH_ROWS) chunks.push(changes.slice(i, i + BATCH_ROWS));
    state.pending += 1;
    if (options.kind === "paste") status(fmt(T.pasting, { rows: changes.length }));
    var step = { batches: [] }, totals = { saved: 0, bad: 0, written: 0 };
    var done = chunks.reduce(function (p, chunk) {
      return p.then(function () { return sendBatch(chunk, step, totals); });
    }, Promise.resolve());
    return done.catch(function (error) {
      status(fmt(T.failed, { reason: error.message }), "failed");
    }).then(function () {
      state.pending -= 1;
      // One undo step for all the batches of this edit, once anything of it was written.
      if (step.batches.length && totals.written) { state.undo.push(step); state.redo = []; }
      storeDrafts();
      if (options.kind === "paste" || options.kind === "fill" || options.kind === "clear") {
        status(totals.bad ? fmt(T.paste_summary, totals) : fmt(T.paste_saved, totals), totals.bad ? "warning" : "ok");
      } else if (!totals.bad && !state.failed.length) {
        status(T.saved, "ok");
      }
      paint();
      return totals;
    });
  }
  var promotedThisWrite = null;
  function promoteBlankKey() {
    // One write may touch the blank row several times (a row of pasted cells): promote once.
    if (promotedThisWrite && table.getRow(promotedThisWrite)) return promotedThisWrite;
    promotedThisWrite = promoteBlank();
    setTimeout(function () { promotedThisWrite = null; }, 0);
    return promotedThisWrite;
  }
  function enqueue(fn) {
    var next = chain.then(fn, fn);
    chain = next.catch(function () {});
    return next;
  }
  /* Sends one batch; the version of each row is read when it is sent, so edits queued
   * behind a save of the same row carry the version that save produced. */
  function sendBatch(chunk, step, totals) {
    return enqueue(function () {
      var id = uuid();
      var changes = chunk.map(function (c) {
        var row = table.getRow(c.key);
        var data = row ? row.getData() : {};
        var values = Object.assign({}, c.values);
        if (!data.id) {  // a draft: send everything typed into it so far
          Object.keys(data).forEach(function (k) {
            if (k[0] !== "_" && values[k] === undefined && data[k] !== null && data[k] !== "") values[k] = data[k];
          });
        }
        Object.keys(values).forEach(function (k) {
          var v = values[k];
          if (v && typeof v === "object" && v.id !== undefined) values[k] = v.id;
        });
        return { key: c.key, id: data.id || null, version: data.id ? data.version : null, values: values };
      });
      return api("batches", { method: "POST", body: { id: id, changes: changes } }).then(function (answer) {
        step.batches.push(id);
        applyResults(answer.results || [], chunk, totals);
      }, function (error) {
        chunk.forEach(function (c) {
          Object.keys(c.values).forEach(function (f) {
            setCellState(c.key, f, { state: "failed", message: fmt(T.failed, { reason: error.status ? error.message : T.network }) });
          });
          var row = table.getRow(c.key); if (row) row.reformat();
        });
        state.failed.push({ chunk: chunk });
        totals.bad += chunk.length;
        status(fmt(T.failed, { reason: error.status ? error.message : T.network }), "failed");
      });
    });
  }
  function applyResults(results, chunk, totals) {
    var sent = {};
    chunk.forEach(function (c) { sent[c.key] = c.values; });
    results.forEach(function (res) {
      var row = table.getRow(res.key);
      var values = sent[res.key] || {};
      if (!row) return;
      var errors = res.errors || {};
      if (res.row) {
        var update = Object.assign({}, res.row);
        Object.keys(errors).forEach(function (f) { delete update[f]; });  // keep what was typed where it was refused
        update._key = row.getData()._key;
        row.update(update);
      }
      if (res.status === "ok") totals.saved += 1; else totals.bad += 1;
      if (res.row && (res.status === "ok" || res.status === "invalid")) totals.written += 1;
      Object.keys(values).forEach(function (f) {
        if (errors[f]) setCellState(res.key, f, { state: "invalid", message: errors[f].join(" ") });
        else if (res.status === "conflict") setCellState(res.key, f, { state: "conflict", message: res.message });
        else if (res.status === "ok" || (res.row && res.status === "invalid")) {
          setCellState(res.key, f, { state: "saved" });
          flashSaved(res.key, f);
        } else setCellState(res.key, f, { state: "invalid", message: res.message });
      });
      Object.keys(errors).forEach(function (f) {  // a draft's missing required cells
        if (!values[f]) setCellState(res.key, f, { state: "invalid", message: errors[f].join(" ") });
      });
      if (res.status === "ok") markIfMoved(res.key, values);
      if (res.status === "conflict") conflicts.push({ key: res.key, values: values, answer: res });
      row.reformat();
    });
    if (conflicts.length) showConflict();
  }
  function flashSaved(key, field) {
    setTimeout(function () {
      var st = cellState(key, field);
      if (st && st.state === "saved") {
        setCellState(key, field, null);
        var row = table.getRow(key);
        if (row && !(state.editing && state.editing.key === key)) { row.reformat(); paint(); }
      }
    }, 2500);
  }
  function markIfMoved(key, values) {
    var fields = Object.keys(values);
    var sorted = state.sort.some(function (s) { return fields.indexOf(s.field) >= 0; });
    var filtered = Object.keys(state.filters).some(function (f) { return fields.indexOf(f) >= 0; });
    if (sorted || filtered || (state.q && fields.length)) state.rowMarks[key] = true;
  }
  function retryFailed() {
    var failed = state.failed;
    state.failed = [];
    failed.forEach(function (f) {
      var cells = [];
      f.chunk.forEach(function (c) { Object.keys(c.values).forEach(function (k) { cells.push({ key: c.key, field: k, value: c.values[k] }); }); });
      writeCells(cells, { kind: "edit" });
    });
  }

  // -- conflicts: their value, who and when; the clerk chooses ----------------------------------
  var conflicts = [];
  function showConflict() {
    var c = conflicts[0], box = el("grid-conflict");
    if (!c) { box.hidden = true; return; }
    var info = c.answer.conflict || {};
    el("grid-conflict-text").textContent = fmt(T.conflict_text, { who: info.changed_by || "", when: info.changed_at || "" });
    var body = el("grid-conflict-rows");
    body.innerHTML = "";
    Object.keys(c.values).forEach(function (f) {
      var spec = columnsByField[f], theirs = (info.their_values || {})[f];
      if (theirs === undefined && info.row) theirs = info.row[f];
      var tr = document.createElement("tr");
      [spec.label, cellText(spec, theirs), cellText(spec, c.values[f])].forEach(function (t, i) {
        var td = document.createElement("td"); td.textContent = t; td.className = ["", "grid-theirs", "grid-mine"][i]; tr.appendChild(td);
      });
      body.appendChild(tr);
    });
    box.hidden = false;
  }
  function resolveConflict(mine) {
    var c = conflicts.shift();
    el("grid-conflict").hidden = true;
    if (!c) return;
    var row = table.getRow(c.key), info = c.answer.conflict || {};
    Object.keys(c.values).forEach(function (f) { setCellState(c.key, f, null); });
    if (row && info.row) row.update(Object.assign({}, info.row, { _key: c.key }));
    if (row && mine) {
      writeCells(Object.keys(c.values).map(function (f) { return { key: c.key, field: f, value: c.values[f] }; }), { kind: "edit" });
    } else if (row) { row.reformat(); paint(); }
    if (conflicts.length) showConflict();
    root.focusGrid();
  }

  // -- undo / redo: one step is the batches of one edit, paste, fill or clear ------------------
  function undoRedo(which) {
    var from = which === "undo" ? state.undo : state.redo, to = which === "undo" ? state.redo : state.undo;
    var step = from.pop();
    if (!step) { status(which === "undo" ? T.nothing_to_undo : T.nothing_to_redo); return; }
    var ids = which === "undo" ? step.batches.slice().reverse() : step.batches.slice();
    var conflicted = 0;
    enqueue(function () {
      return ids.reduce(function (p, id) {
        return p.then(function () {
          return api("batches/" + encodeURIComponent(id) + "/" + which, { method: "POST", body: {} }).then(function (answer) {
            (answer.results || []).forEach(function (res) {
              if (res.status !== "ok") conflicted += 1;
              applyServerRow(res);
            });
          });
        });
      }, Promise.resolve());
    }).then(function () {
      to.push(step);
      status(conflicted ? fmt(T.undo_conflict, { n: conflicted }) : (which === "undo" ? T.undone : T.redone), conflicted ? "warning" : "ok");
      paint();
    }, function (error) {
      from.push(step);
      status(error.message, "failed");
    });
  }
  function applyServerRow(res) {
    var row = table.getRow(res.key) || (res.id ? table.getRow("r" + res.id) : null);
    if (res.deleted) { if (row) row.delete(); return; }
    if (!res.row) return;
    if (row) {
      Object.keys(state.cells[row.getData()._key] || {}).forEach(function (f) { setCellState(row.getData()._key, f, null); });
      row.update(Object.assign({}, res.row, { _key: row.getData()._key }));
      row.reformat();
    } else {
      var blank = table.getRow("blank");
      var data = Object.assign({}, res.row, { _key: res.key || "r" + res.row.id });
      if (blank) table.addRow(data, true, blank); else table.addRow(data, false);
    }
  }

  // -- clipboard -------------------------------------------------------------------------------
  function selectionTSV() {
    var b = bounds(), rs = rows(), cs = dataColumns(), out = [];
    for (var r = b.r0; r <= b.r1; r++) {
      var line = [], data = rs[r].getData();
      for (var c = b.c0; c <= b.c1; c++) {
        var field = cs[c].getField();
        line.push(cellText(columnsByField[field], data[field]));
      }
      out.push(line);
    }
    return PortalTSV.stringify(out);
  }
  function onCopy(e) {
    if (!gridHasFocus() || state.editing) return;
    e.preventDefault();
    e.clipboardData.setData("text/plain", selectionTSV());
  }
  function onPaste(e) {
    if (!gridHasFocus() || state.editing) return;
    e.preventDefault();
    pasteText(e.clipboardData.getData("text/plain"));
  }
  function pasteText(text) {
    var grid = PortalTSV.parse(text || "");
    if (!grid.length) return;
    var b = bounds(), rs = rows(), cs = dataColumns(), cells = [];
    if (grid.length === 1 && grid[0].length === 1 && (b.r1 > b.r0 || b.c1 > b.c0)) {
      forEachSelected(function (key, field) { cells.push({ key: key, field: field, value: grid[0][0] }); });
      return writeCells(cells, { kind: "paste" });
    }
    var keys = [];
    var blankIndex = rs.findIndex(function (r) { return r.getData()._key === "blank"; });
    for (var i = 0; i < grid.length; i++) {
      var index = b.r0 + i;
      var existing = rs[index];
      if (existing && existing.getData()._key !== "blank") keys.push(existing.getData()._key);
      else keys.push(null);  // past the end: new records
    }
    var creates = keys.filter(function (k) { return k === null; }).length;
    var added = [];
    for (var n = 0; n < creates; n++) added.push({ _key: newDraftKey() });
    // above the blank row, which stays last
    var ready = creates ? (blankIndex >= 0 ? table.addRow(added, true, rs[blankIndex]) : table.addRow(added, false)) : Promise.resolve();
    return Promise.resolve(ready).then(function () {
      var a = 0;
      keys = keys.map(function (k) { return k === null ? added[a++]._key : k; });
      grid.forEach(function (line, i) {
        line.forEach(function (value, j) {
          var col = cs[b.c0 + j];
          if (col) cells.push({ key: keys[i], field: col.getField(), value: value });
        });
      });
      state.anchor = { r: b.r0, c: b.c0 };
      state.active = { r: b.r0 + grid.length - 1, c: Math.min(cs.length - 1, b.c0 + grid[0].length - 1) };
      return writeCells(cells, { kind: "paste" });
    });
  }
  function forEachSelected(fn) {
    var b = bounds(), rs = rows(), cs = dataColumns();
    for (var r = b.r0; r <= b.r1; r++) {
      var key = rs[r].getData()._key;
      if (key === "blank") continue;
      for (var c = b.c0; c <= b.c1; c++) fn(key, cs[c].getField(), r, c);
    }
  }
  function clearSelection() {
    var cells = [];
    forEachSelected(function (key, field) {
      var spec = columnsByField[field], data = table.getRow(key).getData();
      if (canEdit(spec, data) && data[field] !== null && data[field] !== undefined && data[field] !== "") cells.push({ key: key, field: field, value: "" });
    });
    return writeCells(cells, { kind: "clear" });
  }
  function fillDown() {
    var b = bounds(), rs = rows(), cs = dataColumns(), cells = [];
    if (b.r1 === b.r0) return;
    var top = rs[b.r0].getData();
    for (var c = b.c0; c <= b.c1; c++) {
      var field = cs[c].getField(), spec = columnsByField[field], value = top[field];
      var text = value && typeof value === "object" ? value : cellText(spec, value);
      for (var r = b.r0 + 1; r <= b.r1; r++) {
        var key = rs[r].getData()._key;
        if (key !== "blank") cells.push({ key: key, field: field, value: text });
      }
    }
    return writeCells(cells, { kind: "fill" });
  }

  // -- keyboard and mouse ----------------------------------------------------------------------
  var gridEl = el("grid");
  /* Keys go to a transparent text box kept beside the grid: what a clerk types through an
   * input method (拼音 → 汉字), or a tool inserts as text, arrives there as input events,
   * which a plain <div> never receives; it then starts editing the active cell. */
  var keySink = document.createElement("textarea");
  keySink.id = "grid-keys"; keySink.className = "grid-keys"; keySink.setAttribute("aria-label", "grid");
  keySink.autocomplete = "off"; keySink.spellcheck = false;
  root.appendChild(keySink);
  var composing = false;
  keySink.addEventListener("compositionstart", function () { composing = true; });
  keySink.addEventListener("compositionend", function () { composing = false; takeTypedText(); });
  keySink.addEventListener("input", function () { if (!composing) takeTypedText(); });
  function takeTypedText() {
    var text = keySink.value;
    keySink.value = "";
    if (text && !state.editing && table) startEdit(text);
  }
  function gridHasFocus() {
    return document.activeElement === keySink || gridEl.contains(document.activeElement) || document.activeElement === gridEl;
  }
  root.focusGrid = function () { keySink.focus({ preventScroll: true }); };
  function onKey(e) {
    if (state.editing || !table) return;
    if (e.target.closest && e.target.closest(".tabulator-header-filter")) return;  // typing a filter
    var rs = rows(), cs = dataColumns(), a = state.active, ctrl = e.ctrlKey || e.metaKey, shift = e.shiftKey;
    var handled = true;
    switch (e.key) {
      case "ArrowDown": moveTo(ctrl ? rs.length - 1 : a.r + 1, a.c, shift); break;
      case "ArrowUp": moveTo(ctrl ? 0 : a.r - 1, a.c, shift); break;
      case "ArrowRight": moveTo(a.r, ctrl ? cs.length - 1 : a.c + 1, shift); break;
      case "ArrowLeft": moveTo(a.r, ctrl ? 0 : a.c - 1, shift); break;
      case "Home": moveTo(ctrl ? 0 : a.r, 0, shift); break;
      case "End": moveTo(ctrl ? rs.length - 1 : a.r, cs.length - 1, shift); break;
      case "PageDown": moveTo(a.r + pageRows(), a.c, shift); break;
      case "PageUp": moveTo(a.r - pageRows(), a.c, shift); break;
      case "Tab": moveTo(a.r, a.c + (shift ? -1 : 1)); break;
      case "Enter":
        if (ctrl) openCard(); else moveTo(a.r + (shift ? -1 : 1), a.c);
        break;
      case "F2": startEdit(null); break;
      case "Delete": clearSelection(); break;
      case "Backspace": startEdit(""); break;
      case "Escape": state.anchor = { r: a.r, c: a.c }; paint(); break;
      default:
        handled = false;
        if (ctrl && !e.altKey) {
          var k = e.key.toLowerCase();
          if (k === "z" && !shift) { undoRedo("undo"); handled = true; }
          else if (k === "y" || (k === "z" && shift)) { undoRedo("redo"); handled = true; }
          else if (k === "d") { fillDown(); handled = true; }
          else if (k === "a") { state.anchor = { r: 0, c: 0 }; state.active = { r: rs.length - 1, c: cs.length - 1 }; paint(); handled = true; }
        } else if (!e.altKey && (e.key.length === 1 || e.key === "Process")) {
          startEdit(e.key === "Process" ? "" : e.key);
          handled = true;
        }
    }
    if (handled) { e.preventDefault(); e.stopPropagation(); }
  }
  function cellAt(target) {
    var cellEl = target.closest && target.closest(".tabulator-cell");
    if (!cellEl || cellEl.classList.contains("grid-editing")) return null;
    var rowEl = cellEl.closest(".tabulator-row");
    var field = cellEl.getAttribute("tabulator-field");
    if (!rowEl || !field || field === "_rowhead") return null;
    var key = rowEl.dataset.key;
    var r = rows().findIndex(function (row) { return row.getData()._key === key; });
    var c = dataColumns().findIndex(function (col) { return col.getField() === field; });
    return r < 0 || c < 0 ? null : { r: r, c: c };
  }
  var dragging = false;
  function onMouseDown(e) {
    if (e.button !== 0) return;
    var at = cellAt(e.target);
    if (!at) return;
    if (state.editing) finishEdit(true);
    e.preventDefault();
    root.focusGrid();
    state.active = at;
    if (!e.shiftKey) state.anchor = { r: at.r, c: at.c };
    dragging = true;
    paint();
  }
  function onMouseOver(e) {
    if (!dragging) return;
    var at = cellAt(e.target);
    if (at) { state.active = at; paint(); }
  }
  function openCard() {
    var a = activeCell();
    if (!a || !a.data.id) return;
    state.openedCard = a.data._key;
    window.open(schema.card_url.replace("{id}", a.data.id), "_blank", "noopener");
  }
  /* A card opened from the grid may have been edited there: fetch that row again. */
  function refreshRow(key) {
    var row = table.getRow(key);
    if (!row || !row.getData().id) return;
    api("rows/" + row.getData().id).then(function (answer) {
      if (answer.row) { row.update(Object.assign({}, answer.row, { _key: key })); row.reformat(); paint(); }
    }, function () {});
  }
  function refreshOpenedCards() {
    if (state.openedCard) refreshRow(state.openedCard);
  }

  // -- layouts and saved views -----------------------------------------------------------------
  function currentLayout() {
    return {
      columns: table.getColumns().filter(function (c) { return c.getField() !== "_rowhead"; }).map(function (c) {
        return { field: c.getField(), width: Math.round(c.getWidth()), visible: c.isVisible() };
      }),
      sort: state.sort, filters: state.filters, q: state.q, size: state.size,
    };
  }
  var layoutTimer = null, layoutReady = false;
  function saveLayoutSoon() {
    if (!layoutReady) return;
    clearTimeout(layoutTimer);
    layoutTimer = setTimeout(function () {
      api("layout", { method: "PUT", body: { layout: currentLayout() } }).catch(function () {});
    }, 600);
  }
  function applyLayout(layout) {
    layout = layout || {};
    state.q = layout.q || ""; el("grid-search").value = state.q;
    state.size = layout.size || state.size; el("grid-size").value = String(state.size);
    state.page = 1; state.signature = null;
    table.setColumns(columnDefs(layout));
    var filters = layout.filters || {};
    table.blockRedraw && table.blockRedraw();
    table.clearHeaderFilter();
    Object.keys(filters).forEach(function (f) {
      if (!columnsByField[f]) return;
      var spec = columnsByField[f], value = filters[f];
      table.setHeaderFilterValue(f, (spec.type === "choice" || spec.type === "relation") ? String(value).split("|") : value);
    });
    table.restoreRedraw && table.restoreRedraw();
    table.setSort((layout.sort || []).filter(function (s) { return columnsByField[s.field]; }).map(function (s) {
      return { column: s.field, dir: s.dir };
    }));
    buildColumnsMenu();
  }
  function buildColumnsMenu() {
    var menu = el("grid-columns-menu");
    menu.innerHTML = "";
    table.getColumns().forEach(function (c) {
      var field = c.getField();
      if (field === "_rowhead") return;
      var li = document.createElement("li"), label = document.createElement("label");
      var box = document.createElement("input");
      box.type = "checkbox"; box.checked = c.isVisible(); box.dataset.field = field;
      box.disabled = !!columnsByField[field].frozen;
      box.addEventListener("change", function () { if (box.checked) c.show(); else c.hide(); paint(); saveLayoutSoon(); });
      label.appendChild(box); label.appendChild(document.createTextNode(" " + columnsByField[field].label));
      li.appendChild(label); menu.appendChild(li);
    });
    menu.addEventListener("click", function (e) { e.stopPropagation(); });
  }
  function buildViewsMenu(views) {
    var menu = el("grid-views-menu");
    menu.innerHTML = "";
    function item(text, handler, id) {
      var li = document.createElement("li"), a = document.createElement("a");
      a.href = "#"; a.textContent = text; if (id) a.id = id;
      a.addEventListener("click", function (e) { e.preventDefault(); handler(); });
      li.appendChild(a); menu.appendChild(li); return li;
    }
    item(T.save_view, function () { el("grid-save-view").hidden = false; el("grid-view-name").focus(); }, "grid-save-view-item");
    item(T.reset_layout, function () { applyLayout({}); }, "grid-reset-layout");
    var mine = views.filter(function (v) { return v.mine; }), shared = views.filter(function (v) { return !v.mine; });
    [[T.views_mine, mine], [T.views_shared, shared]].forEach(function (group) {
      var header = document.createElement("li"); header.className = "dropdown-header"; header.textContent = group[0]; menu.appendChild(header);
      if (!group[1].length) { var none = document.createElement("li"); none.className = "disabled"; none.innerHTML = "<a>" + escapeHtml(T.no_views) + "</a>"; menu.appendChild(none); }
      group[1].forEach(function (v) {
        var li = item(v.name + (v.shared && v.mine ? " ⇄" : "") + (v.mine ? "" : " — " + (v.owner || "")), function () { applyLayout(v.layout); }, null);
        li.className = "grid-view-item"; li.dataset.viewId = v.id;
        if (v.mine) {
          var del = document.createElement("button");
          del.type = "button"; del.className = "btn btn-xs btn-link grid-view-delete"; del.textContent = T.delete_view;
          del.addEventListener("click", function (e) {
            e.preventDefault(); e.stopPropagation();
            api("views/" + v.id, { method: "DELETE" }).then(loadViews, function (err) { status(err.message, "failed"); });
          });
          li.appendChild(del);
        }
      });
    });
  }
  function loadViews() {
    return api("views").then(function (answer) { buildViewsMenu(answer.views || []); return answer; });
  }
  function saveView() {
    var name = el("grid-view-name").value.trim();
    api("views", { method: "POST", body: { name: name, shared: el("grid-view-shared").checked, layout: currentLayout() } }).then(function () {
      el("grid-save-view").hidden = true; el("grid-view-name").value = "";
      status(T.view_saved, "ok");
      loadViews();
    }, function (error) { status(error.message, "failed"); });
  }

  // -- export: exactly the rows and columns shown ----------------------------------------------
  function exportView(format) {
    var params = queryParams(false);
    params.set("format", format);
    params.set("columns", dataColumns().map(function (c) { return c.getField(); }).join(","));
    window.location.href = API + "export?" + params.toString();
  }

  // -- start -----------------------------------------------------------------------------------
  function start(schemaAnswer, viewsAnswer) {
    schema = schemaAnswer;
    schema.card_url = schema.card_url || ("/" + RESOURCE + "view/show/{id}");
    schema.columns.forEach(function (c) { columnsByField[c.field] = c; });
    var layout = viewsAnswer.current || {};
    state.q = layout.q || ""; el("grid-search").value = state.q;
    if (layout.size) { state.size = layout.size; el("grid-size").value = String(layout.size); }
    var filters = Object.keys(urlFilters).length ? urlFilters : (layout.filters || {});
    table = new Tabulator(gridEl, {
      index: "_key", layout: "fitDataTable", headerFilterLiveFilterDelay: 500, height: "calc(100vh - 230px)", renderVertical: "basic",
      columns: columnDefs(layout), movableColumns: true, resizableColumns: true, keybindings: false,
      ajaxURL: API + "rows", ajaxRequestFunc: requestRows, sortMode: "remote", filterMode: "remote",
      ajaxLoader: false, columnHeaderSortMulti: true, rowFormatter: rowFormatter, placeholder: T.loading,
      initialSort: (layout.sort || []).filter(function (s) { return columnsByField[s.field]; }).map(function (s) { return { column: s.field, dir: s.dir }; }),
      initialHeaderFilter: Object.keys(filters).filter(function (f) { return columnsByField[f]; }).map(function (f) {
        var spec = columnsByField[f];
        return { field: f, value: (spec.type === "choice" || spec.type === "relation") ? String(filters[f]).split("|") : filters[f] };
      }),
    });
    window.portalGrid = { table: table, state: state, paste: pasteText, copyText: selectionTSV };
    table.on("tableBuilt", function () { buildColumnsMenu(); layoutReady = true; });
    table.on("dataProcessed", function () {
      setTimeout(function () { paint(); root.dataset.loads = String(parseInt(root.dataset.loads || "0", 10) + 1); }, 0);
    });
    table.on("renderComplete", function () { paint(); });
    ["columnMoved", "columnResized", "columnVisibilityChanged"].forEach(function (name) {
      table.on(name, function () { paint(); saveLayoutSoon(); });
    });
    buildViewsMenu(viewsAnswer.views || []);
    el("grid-export-group").hidden = schema.can_export === false;
  }

  gridEl.addEventListener("keydown", onKey);
  keySink.addEventListener("keydown", onKey);
  gridEl.addEventListener("mousedown", onMouseDown);
  gridEl.addEventListener("mouseover", onMouseOver);
  gridEl.addEventListener("click", function (e) {
    var link = e.target.closest && e.target.closest("a.grid-open");
    if (link) state.openedCard = link.closest(".tabulator-row").dataset.key;
  });
  gridEl.addEventListener("dblclick", function (e) { if (cellAt(e.target)) startEdit(null); });
  document.addEventListener("mouseup", function () { dragging = false; });
  document.addEventListener("copy", onCopy);
  document.addEventListener("paste", onPaste);
  window.addEventListener("focus", refreshOpenedCards);
  if (window.BroadcastChannel) {
    // Kept in state: a channel nobody references may be collected and stop listening.
    state.channel = new BroadcastChannel("portal-records");
    state.channel.addEventListener("message", refreshOpenedCards);
  }
  window.addEventListener("beforeunload", function (e) {
    if (state.pending || state.failed.length) { e.preventDefault(); e.returnValue = T.unsaved; return T.unsaved; }
  });
  var searchTimer = null;
  el("grid-search").addEventListener("input", function (e) {
    clearTimeout(searchTimer);
    searchTimer = setTimeout(function () { state.q = e.target.value.trim(); reload(); }, 300);
  });
  el("grid-size").addEventListener("change", function (e) { state.size = parseInt(e.target.value, 10); reload(); });
  el("grid-prev").addEventListener("click", function () { if (state.page > 1) { state.page -= 1; reload(true); } });
  el("grid-next").addEventListener("click", function () { state.page += 1; reload(true); });
  el("grid-refresh").addEventListener("click", function () { reload(true); });
  el("grid-undo").addEventListener("click", function () { undoRedo("undo"); });
  el("grid-redo").addEventListener("click", function () { undoRedo("redo"); });
  el("grid-conflict-theirs").addEventListener("click", function () { resolveConflict(false); });
  el("grid-conflict-mine").addEventListener("click", function () { resolveConflict(true); });
  el("grid-view-save").addEventListener("click", saveView);
  el("grid-view-cancel").addEventListener("click", function () { el("grid-save-view").hidden = true; });
  el("grid-export-xlsx").addEventListener("click", function (e) { e.preventDefault(); exportView("xlsx"); });
  el("grid-export-csv").addEventListener("click", function (e) { e.preventDefault(); exportView("csv"); });
  if (el("grid-drill-remove")) el("grid-drill-remove").addEventListener("click", removeDrill);

  Promise.all([api("schema"), api("views").catch(function () { return {}; })]).then(function (answers) {
    start(answers[0], answers[1] || {});
  }, function (error) { status(fmt(T.load_failed, { reason: error.message }), "failed"); });
})();
