/* The import wizard and a batch's page (templates/portal/import.html).
 *
 * A batch is the state: once a file is uploaded, the address becomes /import/batches/<id>
 * (history.pushState), so a reload — or coming back later — shows the same batch at the
 * step its status says: uploaded → the columns, preparing/committing/undoing → the progress
 * (GET batch every second), previewed → the preview, committed/undone → the result.
 * The preview is read a page of 50 rows at a time from the server, so a file of 100,000
 * rows never reaches the browser whole.
 *
 * The browser's Back and Forward buttons walk the steps the clerk went through (upload →
 * columns → check, and back to the columns), each a history entry {batch, step}; where the
 * batch has moved on since (imported), its status decides, as on a reload.
 *
 * The root's data-state says which step is shown (tests and screen readers wait on it). */
(function () {
  "use strict";

  var root = document.getElementById("import-page");
  if (!root || !window.portalImport) return;
  var P = window.portalImport, T = P.T, el = P.el, make = P.make, show = P.show, fmt = P.fmt, number = P.number;
  var CONFIG = JSON.parse(el("import-config").textContent);
  var API = root.dataset.api;
  var http = P.client(API, root);
  var BUSY = { preparing: 1, committing: 1, undoing: 1 };
  var PAGE_SIZE = 50;
  var TABS = ["", "invalid", "duplicate", "new", "update", "unchanged"];

  var state = {
    resource: root.dataset.resource || "", batchId: root.dataset.batchId ? Number(root.dataset.batchId) : null,
    batch: null, schema: null, fields: {}, mappingId: null, tab: "", page: 1, total: 0, timer: null,
    uploading: false, partialUndo: false, suggested: {}, rowsLoads: 0,
  };

  // -- small helpers -----------------------------------------------------------------------
  function message(text, kind) {
    var box = el("import-message");
    box.className = "alert alert-" + (kind || "danger");
    box.textContent = text || "";
    show(box, !!text);
    if (text) box.scrollIntoView({ block: "nearest" });
  }
  function fail(error) {
    message(error && error.message ? error.message : T.network);
    P.loginLink(el("import-message"), error);
  }
  /* A step refused with 409 because the batch moved on — in another tab, or a click on a page
   * left open — shows the batch as it is now, under the server's message, instead of leaving
   * the stale step and its buttons on screen (an Import button that can only be refused). */
  function refused(error) {
    var shown = state.batch && state.batch.status, seen = state.batch && state.batch.prepared_at;
    if (!error || error.status !== 409 || !state.batchId) { fail(error); return; }
    http.api("/batches/" + state.batchId).then(function (batch) {
      // Nothing moved on (same step, same dry run): the refusal itself is the news.
      if (batch.status === shown && batch.prepared_at === seen) { fail(error); return; }
      render(batch);
      message(error.message, "warning");
    }, function () { fail(error); });
  }
  function resourceInfo(name) { return (CONFIG.resources || {})[name || state.resource] || {}; }
  function setState(name) { root.dataset.state = name; }
  function step(name) {
    var order = ["upload", "mapping", "preview", "result"], at = order.indexOf(name);
    Array.prototype.forEach.call(el("import-steps").children, function (li) {
      var i = order.indexOf(li.dataset.step);
      li.classList.toggle("active", i === at);
      li.classList.toggle("done", i < at);
    });
  }
  function sections(visible) {
    ["import-upload", "import-mapping", "import-progress", "import-preview", "import-result"].forEach(function (id) {
      show(el(id), visible.indexOf(id) >= 0);
    });
  }
  function fieldLabel(name) {
    if (!name) return "";
    if (name.indexOf("custom:") === 0) return name.slice(7);
    var spec = state.fields[name];
    return spec ? spec.label : name;
  }
  function markResourceTab() {
    var tabs = el("import-resources");
    if (!tabs) return;
    Array.prototype.forEach.call(tabs.children, function (li) { li.classList.toggle("active", li.dataset.resource === state.resource); });
  }

  // -- loading -----------------------------------------------------------------------------
  function loadSchema(resource) {
    if (state.schema && state.schema.resource === resource) return Promise.resolve(state.schema);
    return http.api("/" + resource + "/fields").then(function (schema) {
      schema.resource = resource;
      state.schema = schema;
      state.fields = {};
      (schema.fields || []).forEach(function (f) { state.fields[f.name] = f; });
      return schema;
    });
  }
  function loadBatch(id) {
    return http.api("/batches/" + id).then(function (batch) {
      state.resource = batch.resource;
      return loadSchema(batch.resource).then(function () { render(batch); });
    });
  }

  function render(batch) {
    var previous = state.batch;
    state.batch = batch;
    state.batchId = batch.id;
    var info = resourceInfo(batch.resource);
    el("import-batch-title").textContent = fmt(T.of_resource, { resource: info.label || batch.resource, file: batch.file_name || "" });
    markResourceTab();
    if (batch.links && batch.links.page && window.location.pathname !== batch.links.page) {
      // From the upload step's address: a new entry, so that Back returns to the upload.
      window.history.pushState({ batch: batch.id, step: "mapping" }, "", batch.links.page);
    }
    clearTimeout(state.timer);
    if (BUSY[batch.status]) {
      renderProgress(batch);
      state.timer = setTimeout(poll, 1000);
      return;
    }
    var freshRows = !previous || previous.status !== batch.status || previous.id !== batch.id ||
      previous.prepared_at !== batch.prepared_at;  // checked again (in another tab): other rows
    if (freshRows && previous && previous.id === batch.id) { state.tab = ""; state.page = 1; }  // a new step shows all rows
    if (batch.status === "uploaded") renderMapping(batch);
    else if (batch.status === "previewed") renderPreview(batch, freshRows);
    else renderResult(batch, freshRows);
  }
  function poll() {
    http.api("/batches/" + state.batchId).then(render, function (error) {
      // A lost connection is not the end of the batch: keep asking, and say so.
      fail(error);
      state.timer = setTimeout(poll, 3000);
    });
  }

  // -- 1 upload ----------------------------------------------------------------------------
  function renderUpload() {
    sections(["import-upload"]);
    step("upload"); setState("upload");
    el("import-batch-title").textContent = "";
    var template = el("import-template");
    template.href = (state.schema && state.schema.template) || "#";
    renderMappings();
  }
  function renderMappings() {
    var box = el("import-mappings"), list = (state.schema && state.schema.mappings) || [];
    P.clear(box);
    if (!list.length) { box.appendChild(make("p", "text-muted", T.no_mappings)); return; }
    function option(id, name, removable) {
      var row = make("div", "radio import-mapping");
      var label = make("label"), input = make("input");
      input.type = "radio"; input.name = "import-mapping"; input.value = id === null ? "" : String(id);
      input.checked = state.mappingId === id;
      input.addEventListener("change", function () { state.mappingId = id; });
      label.appendChild(input);
      label.appendChild(document.createTextNode(" " + name));
      row.appendChild(label);
      if (removable) {
        var del = make("button", "btn btn-link btn-xs import-mapping-delete", T.delete);
        del.type = "button";
        del.addEventListener("click", function () {
          if (!window.confirm(fmt(T.delete_mapping_confirm, { name: name }))) return;
          http.api("/mappings/" + id, { method: "DELETE" }).then(function () {
            state.schema.mappings = state.schema.mappings.filter(function (m) { return m.id !== id; });
            if (state.mappingId === id) state.mappingId = null;
            renderMappings();
          }, fail);
        });
        row.appendChild(del);
      }
      box.appendChild(row);
    }
    option(null, T.mapping_none, false);
    list.forEach(function (m) { option(m.id, m.name, true); });
  }
  function megabytes(size) {  // as the server writes them (reader._megabytes)
    var mb = size / 1048576;
    return mb >= 0.1 ? mb.toFixed(1).replace(/\.0$/, "") : String(Number(mb.toPrecision(2)));
  }
  function uploadFile(file) {
    if (!file || state.uploading) return;
    message("");
    if (CONFIG.upload_limit && file.size > CONFIG.upload_limit) {  // refused at once, not after sending it all
      message(fmt(T.too_large, { size: megabytes(file.size), limit: megabytes(CONFIG.upload_limit) }));
      el("import-file").value = "";
      return;
    }
    state.uploading = true;
    var bar = el("import-upload-bar");
    show(el("import-upload-progress"), true);
    bar.style.width = "0%";
    el("import-upload-text").textContent = fmt(T.uploading, { name: file.name });
    http.upload("/" + state.resource + "/upload", file, { mapping_id: state.mappingId }, function (fraction) {
      bar.style.width = Math.round(fraction * 100) + "%";
      if (fraction >= 1) el("import-upload-text").textContent = T.reading_file;
    }).then(function (batch) {
      state.uploading = false;
      show(el("import-upload-progress"), false);
      render(batch);
    }, function (error) {
      state.uploading = false;
      show(el("import-upload-progress"), false);
      el("import-file").value = "";
      fail(error);
    });
  }
  function bindUpload() {
    var drop = el("import-drop"), input = el("import-file");
    input.addEventListener("change", function () { if (input.files.length) uploadFile(input.files[0]); });
    drop.addEventListener("click", function (event) { if (event.target === drop) input.click(); });
    drop.addEventListener("keydown", function (event) {
      if (event.key === "Enter" || event.key === " ") { event.preventDefault(); input.click(); }
    });
    ["dragenter", "dragover"].forEach(function (type) {
      drop.addEventListener(type, function (event) { event.preventDefault(); drop.classList.add("import-drop-over"); });
    });
    ["dragleave", "dragend"].forEach(function (type) {
      drop.addEventListener(type, function () { drop.classList.remove("import-drop-over"); });
    });
    drop.addEventListener("drop", function (event) {
      event.preventDefault();
      drop.classList.remove("import-drop-over");
      var files = event.dataTransfer && event.dataTransfer.files;
      if (!files || files.length !== 1) { message(T.no_file, "warning"); return; }
      uploadFile(files[0]);
    });
    window.addEventListener("beforeunload", function (event) {
      if (state.uploading) { event.preventDefault(); event.returnValue = T.leave_warning; }
    });
  }

  // -- 2 sheet and columns -----------------------------------------------------------------
  function fieldSelect(index, header, chosen) {
    var select = make("select", "form-control input-sm import-field");
    select.dataset.column = index;
    function add(parent, value, text) {
      var o = make("option", "", text);
      o.value = value;
      parent.appendChild(o);
      return o;
    }
    add(select, "", T.do_not_import);
    var own = make("optgroup"), contact = make("optgroup");
    own.label = T.group_fields; contact.label = T.group_contact;
    (state.schema.fields || []).forEach(function (f) {
      var text = f.label + (f.required ? " *" : "");
      add(f.name.indexOf("contact.") === 0 ? contact : own, f.name, text);
    });
    select.appendChild(own);
    if (contact.children.length) select.appendChild(contact);
    if (resourceInfo().custom) {
      var custom = add(select, "custom:" + (header || fmt(T.column_n, { n: index + 1 })), T.custom_field);
      custom.className = "import-custom-option";
      if (chosen && chosen.indexOf("custom:") === 0 && chosen !== custom.value) add(select, chosen, T.custom_field + ": " + chosen.slice(7));
    }
    if (chosen && !select.querySelector('option[value="' + CSS.escape(chosen) + '"]')) add(select, chosen, chosen);
    select.value = chosen || "";
    return select;
  }
  var NUMBER_TYPES = ["int", "decimal", "money"];
  function policySelect(field, current) {
    var spec = state.fields[field];
    if (!spec || !spec.policy) return null;
    var select = make("select", "form-control input-sm import-policy");
    select.dataset.field = field;
    spec.policy.forEach(function (p) {
      var o = make("option", "", T["policy_" + p] || p);
      o.value = p;
      select.appendChild(o);
    });
    select.value = current && spec.policy.indexOf(current) >= 0 ? current : spec.policy[0];
    return select;
  }
  function renderMapping(batch) {
    sections(["import-mapping"]);
    step("mapping"); setState("mapping");
    message(batch.error || "", "danger");
    var sheet = el("import-sheet");
    P.clear(sheet);
    (batch.sheets || []).forEach(function (s) {
      var o = make("option", "", fmt(s.hidden ? T.sheet_rows_hidden : T.sheet_rows,
                                     { name: s.name, rows: number(s.rows) }));
      o.value = s.name;
      sheet.appendChild(o);
    });
    sheet.value = batch.sheet || "";
    el("import-header-row").value = batch.header_row || 1;
    el("import-file-name").textContent = batch.file_name || "";
    renderSavedChoice();

    var options = batch.options || {}, policies = options.choices || {};
    var tbody = el("import-columns").tBodies[0];
    P.clear(tbody);
    state.suggested = {};
    (batch.headers || []).forEach(function (header, index) {
      var chosen = (batch.mapping || {})[String(index)] || "";
      state.suggested[index] = chosen;
      var tr = make("tr");
      tr.dataset.column = index;
      var th = make("th", "import-header", header || fmt(T.column_n, { n: index + 1 }));
      if (!header) th.classList.add("text-muted");
      tr.appendChild(th);
      var samples = make("td", "import-samples");
      (batch.sample || []).slice(0, 3).forEach(function (row) {
        var value = row[index];
        samples.appendChild(make("div", "import-sample", value === null || value === undefined ? "" : value));
      });
      tr.appendChild(samples);
      var cell = make("td", "import-field-cell");
      var select = fieldSelect(index, header, chosen);
      cell.appendChild(select);
      if (chosen) {
        tr.classList.add("import-suggested");
        cell.appendChild(make("span", "label label-info import-suggested-mark", T.suggested));
      }
      tr.appendChild(cell);
      var policyCell = make("td", "import-policy-cell");
      tr.appendChild(policyCell);
      function updatePolicy() {
        P.clear(policyCell);
        var p = policySelect(select.value, policies[select.value]);
        if (p) policyCell.appendChild(p);
        // A number column headed with its unit (注册资本(万元)) is counted in it: say so.
        var spec = state.fields[select.value], unit = (batch.units || {})[String(index)];
        if (unit && spec && NUMBER_TYPES.indexOf(spec.type) >= 0) {
          policyCell.appendChild(make("span", "import-unit text-info", fmt(T.unit_times, { n: number(unit) })));
        }
      }
      select.addEventListener("change", function () {
        tr.classList.toggle("import-suggested", select.value !== "" && select.value === state.suggested[index]);
        var mark = cell.querySelector(".import-suggested-mark");
        if (mark) show(mark, select.value === state.suggested[index]);
        updatePolicy();
        checkMapping();
      });
      updatePolicy();
      tbody.appendChild(tr);
    });

    var match = el("import-match");
    P.clear(match);
    state.matchChosen = false;
    var wanted = (options.match || []).join("+");
    match.appendChild(make("option", "", T.match_none)).value = "";
    (state.schema.match_keys || []).forEach(function (key) {
      var o = make("option", "", key.label);
      o.value = key.key;
      if ((key.fields || []).join("+") === wanted || key.key === wanted) o.selected = true;
      match.appendChild(o);
    });
    state.matchPreferred = match.value;
    // Records with no match key (visits) can only be created.
    var keys = state.schema.match_keys || [];
    show(match.parentNode, keys.length > 0);
    var mode = keys.length ? options.mode || "upsert" : "create";
    Array.prototype.forEach.call(root.querySelectorAll('input[name="import-mode"]'), function (r) {
      r.checked = r.value === mode;   // followMatchKey (in checkMapping) allows only create without a key
    });
    el("import-all-or-nothing").checked = !!options.all_or_nothing;
    checkMapping();
  }
  /* The saved mappings, to apply one on this step (the sheet is read again with it). */
  function renderSavedChoice() {
    var select = el("import-saved"), list = (state.schema && state.schema.mappings) || [];
    P.clear(select);
    select.appendChild(make("option", "", T.mapping_none)).value = "";
    list.forEach(function (m) { select.appendChild(make("option", "", m.name)).value = String(m.id); });
    select.value = state.mappingId ? String(state.mappingId) : "";
    show(el("import-saved-group"), list.length > 0);
  }
  function chosenMapping() {
    var mapping = {};
    Array.prototype.forEach.call(root.querySelectorAll("#import-columns select.import-field"), function (s) {
      mapping[s.dataset.column] = s.value || null;
    });
    return mapping;
  }
  /* Warnings while choosing: required fields no column feeds, a field chosen twice. */
  function checkMapping() {
    var mapping = chosenMapping(), used = {}, twice = [], problems = [];
    Object.keys(mapping).forEach(function (k) {
      var f = mapping[k];
      if (!f) return;
      if (used[f]) twice.push(fieldLabel(f));
      used[f] = true;
    });
    var anyContact = Object.keys(used).some(function (f) { return f.indexOf("contact.") === 0; });
    var missing = (state.schema.fields || []).filter(function (f) {
      if (!f.required || used[f.name]) return false;
      return f.name.indexOf("contact.") !== 0 || anyContact;  // the first contact's fields count only when it is imported
    }).map(function (f) { return f.label; });
    var key = followMatchKey(used);
    if (key && !matched(key, used)) problems.push(fmt(T.match_unmapped, { key: key.label }));
    if (!Object.keys(used).length) problems.push(T.nothing_mapped);
    if (missing.length) problems.push(fmt(T.missing_required, { fields: missing.join("、") }));
    twice.forEach(function (label) { problems.push(fmt(T.mapped_twice, { field: label })); });
    var box = el("import-missing");
    P.clear(box);
    problems.forEach(function (p) { box.appendChild(make("div", "", p)); });
    show(box, problems.length > 0);
    Array.prototype.forEach.call(root.querySelectorAll("#import-columns select.import-field"), function (s) {
      s.parentNode.classList.toggle("has-error", !!s.value && twice.indexOf(fieldLabel(s.value)) >= 0);
    });
  }
  function matched(key, used) {
    return (key.fields || []).every(function (f) { return !!used[f]; });
  }
  /* The match key follows the columns until the clerk picks one: the key the batch had while
   * its fields all have a column, else the first key whose fields do (as the upload suggests),
   * else none — a list of new records with no number, mobile or e-mail is created, as the
   * server allows. Mapping 客户名称 and 手机 by hand would otherwise leave customer number
   * chosen, and the check refused. Without a key, rows can only be created. Returns the key. */
  function followMatchKey(used) {
    var select = el("import-match"), keys = state.schema.match_keys || [], byName = {};
    keys.forEach(function (k) { byName[k.key] = k; });
    var key = byName[state.matchPreferred] || null;
    if (!state.matchChosen && !(key && matched(key, used))) {
      key = keys.filter(function (k) { return matched(k, used); })[0] || null;
    }
    select.value = key ? key.key : "";
    Array.prototype.forEach.call(root.querySelectorAll('input[name="import-mode"]'), function (r) {
      r.disabled = !key && r.value !== "create";
      if (!key) r.checked = r.value === "create";
    });
    return key;
  }
  function chosenOptions() {
    var keyName = el("import-match").value, key = null;
    (state.schema.match_keys || []).forEach(function (k) { if (k.key === keyName) key = k; });
    var mode = root.querySelector('input[name="import-mode"]:checked');
    var choices = {};
    Array.prototype.forEach.call(root.querySelectorAll("#import-columns select.import-policy"), function (s) {
      choices[s.dataset.field] = s.value;
    });
    return { match: key ? key.fields : [], mode: mode ? mode.value : "upsert", choices: choices,
      all_or_nothing: el("import-all-or-nothing").checked };
  }
  function readSheet(withHeaderRow) {
    var body = { sheet: el("import-sheet").value };
    if (state.mappingId) body.mapping_id = state.mappingId;
    if (withHeaderRow) body.header_row = Number(el("import-header-row").value) || 1;
    message("");
    http.api("/batches/" + state.batchId + "/sheet", { method: "POST", body: body }).then(function (batch) {
      state.batch = null;  // headers changed: draw the columns anew
      render(batch);
    }, function (error) {
      // Refused (no header there): the columns shown are still the batch's sheet's, so say so.
      var batch = state.batch || {};
      el("import-sheet").value = batch.sheet || "";
      el("import-header-row").value = batch.header_row || 1;
      if (error.status === 404) state.mappingId = null;   // the saved mapping was deleted meanwhile
      renderSavedChoice();
      fail(error);
    });
  }
  function prepare() {
    message("");
    var button = el("import-prepare");
    button.disabled = true;
    var name = el("import-save-as").value.trim();
    http.api("/batches/" + state.batchId + "/prepare", { method: "POST", body: {
      mapping: chosenMapping(), options: chosenOptions(), save_mapping_as: name || null,
    } }).then(function (batch) {
      button.disabled = false;
      el("import-save-as").value = "";
      state.page = 1; state.tab = "";
      state.batch = null;
      window.history.pushState({ batch: batch.id, step: "preview" }, "", window.location.pathname);
      if (!name) { render(batch); return; }
      var known = state.schema;
      state.schema = null;  // read the fields again: the saved mapping is in their list now
      loadSchema(batch.resource).then(function () { render(batch); }, function () { state.schema = known; render(batch); });
    }, function (error) { button.disabled = false; refused(error); });
  }
  function bindMapping() {
    el("import-sheet").addEventListener("change", function () { readSheet(false); });
    el("import-saved").addEventListener("change", function (event) {
      state.mappingId = event.target.value ? Number(event.target.value) : null;
      readSheet(true);
    });
    el("import-match").addEventListener("change", function (event) {
      state.matchChosen = true; state.matchPreferred = event.target.value;
      checkMapping();
    });
    el("import-sheet-form").addEventListener("submit", function (event) { event.preventDefault(); readSheet(true); });
    el("import-prepare").addEventListener("click", prepare);
    el("import-restart").addEventListener("click", function () {
      window.location.href = resourceInfo().wizard || window.location.pathname;
    });
  }

  // -- progress ----------------------------------------------------------------------------
  function renderProgress(batch) {
    sections(["import-progress"]);
    step(batch.status === "preparing" ? "preview" : "result");
    setState("progress");
    var p = batch.progress || {}, bar = el("import-progress-bar");
    var phase = p.phase || (batch.status === "undoing" ? "undoing" : "waiting");
    el("import-progress-phase").textContent = (T["phase_" + phase] || phase) + "…";
    var total = Number(p.total) || 0, done = Number(p.done) || 0;
    var percent = total ? Math.min(100, Math.round(done * 100 / total)) : 0;
    bar.style.width = (total ? percent : 100) + "%";
    bar.setAttribute("aria-valuenow", String(percent));
    bar.textContent = total ? percent + "%" : "";
    el("import-progress-text").textContent = total ? fmt(T.progress, { done: number(done), total: number(total) }) : "";
  }

  // -- 3 preview ---------------------------------------------------------------------------
  function tabCount(batch, status) {
    var c = batch.counts || {};
    return status ? c[status] || 0 : c.total || 0;
  }
  function renderTabs(batch) {
    var tabs = el("import-tabs");
    P.clear(tabs);
    TABS.forEach(function (status) {
      var n = tabCount(batch, status);
      var li = make("li");
      li.dataset.status = status || "all";
      li.setAttribute("role", "presentation");
      if (state.tab === status) li.className = "active";
      if (status && !n) li.classList.add("import-tab-empty");
      var a = make("a", "import-tab-" + (status || "all"));
      a.href = "#";
      a.setAttribute("role", "tab");
      a.appendChild(document.createTextNode(T["tab_" + (status || "all")] + " "));
      a.appendChild(make("span", "badge", number(n)));
      a.addEventListener("click", function (event) {
        event.preventDefault();
        state.tab = status; state.page = 1;
        renderTabs(batch);
        loadRows();
      });
      li.appendChild(a);
      tabs.appendChild(li);
    });
  }
  function mappedFields(batch) {
    var mapping = batch.mapping || {};
    return Object.keys(mapping).map(Number).sort(function (a, b) { return a - b; })
      .map(function (i) { return mapping[String(i)]; }).filter(function (f) { return !!f; });
  }
  function loadRows() {
    var batch = state.batch;
    var params = new URLSearchParams({ page: state.page, size: PAGE_SIZE });
    if (state.tab) params.set("status", state.tab);
    var url = (batch.links && batch.links.rows) || (API + "/batches/" + batch.id + "/rows");
    var tbody = el("import-rows").tBodies[0];
    root.dataset.rowsLoading = "1";
    return http.api(url + "?" + params.toString()).then(function (data) {
      if (state.batch !== batch && (!state.batch || state.batch.id !== batch.id)) return;
      state.total = data.total || 0;
      drawRows(batch, data.rows || []);
      drawPager(data);
      root.dataset.rowsLoading = "";
      root.dataset.rowsLoads = String(++state.rowsLoads);
    }, function (error) {
      P.clear(tbody);
      root.dataset.rowsLoading = "";
      fail(error);
    });
  }
  function drawRows(batch, rows) {
    var fields = mappedFields(batch), table = el("import-rows");
    var thead = table.tHead, tbody = table.tBodies[0];
    P.clear(thead); P.clear(tbody);
    var head = make("tr");
    head.appendChild(make("th", "import-rownum", T.col_row));
    head.appendChild(make("th", "import-status", T.col_status));
    head.appendChild(make("th", "import-target", T.col_target));
    fields.forEach(function (f) {
      var th = make("th", "", fieldLabel(f));
      th.dataset.field = f;
      head.appendChild(th);
    });
    thead.appendChild(head);
    if (!rows.length) {
      var empty = make("td", "text-muted text-center", T.no_rows);
      empty.colSpan = fields.length + 3;
      var tr0 = make("tr");
      tr0.appendChild(empty);
      tbody.appendChild(tr0);
      return;
    }
    var card = resourceInfo(batch.resource).card;
    rows.forEach(function (r) {
      var tr = make("tr", "import-row import-row-" + r.status);
      tr.dataset.row = r.row;
      tr.dataset.status = r.status;
      var errors = r.errors || {}, diff = r.diff || {}, values = r.values || {};
      var num = make("td", "import-rownum", r.row);
      num.title = fmt(T.row_title, { row: r.row });
      tr.appendChild(num);
      var st = make("td", "import-status");
      st.appendChild(make("span", "label import-label-" + r.status, T["row_" + r.status] || r.status));
      if (errors._row) st.appendChild(make("div", "import-cell-message", errors._row));
      tr.appendChild(st);
      var target = make("td", "import-target");
      if (r.target) {
        if (card && r.target.id) {
          var a = make("a", "", r.target.label || r.target.id);
          a.href = card.replace("{id}", r.target.id); a.target = "_blank"; a.rel = "noopener";
          target.appendChild(a);
        } else {
          target.textContent = r.target.label || "";
        }
      }
      tr.appendChild(target);
      fields.forEach(function (f) {
        var td = make("td", "import-cell");
        td.dataset.field = f;
        if (diff[f]) {
          td.classList.add("import-cell-changed");
          var old = diff[f].old;
          td.appendChild(make("del", "import-old", old === null || old === undefined ? "" : old));
          td.appendChild(make("span", "import-arrow", " → "));
          td.appendChild(make("ins", "import-new", diff[f]["new"] === null || diff[f]["new"] === undefined ? "" : diff[f]["new"]));
        } else {
          var v = values[f];
          td.appendChild(make("span", "import-value", v === null || v === undefined ? "" : v));
        }
        if (errors[f]) {
          td.classList.add("import-cell-error");
          td.title = errors[f];
          td.appendChild(make("div", "import-cell-message", errors[f]));
        }
        tr.appendChild(td);
      });
      tbody.appendChild(tr);
    });
  }
  function drawPager(data) {
    var pages = Math.max(1, Math.ceil((data.total || 0) / PAGE_SIZE));
    el("import-page-label").textContent = fmt(T.page_of, { page: number(state.page), pages: number(pages) }) +
      " · " + fmt(T.rows_n, { n: number(data.total || 0) });
    el("import-prev").disabled = state.page <= 1;
    el("import-next").disabled = state.page >= pages;
    var go = el("import-page-input");
    go.max = String(pages);
    go.value = String(state.page);
    show(el("import-page-go"), pages > 1);
    show(el("import-pager"), true);
  }
  function commitState(batch) {
    var c = batch.counts || {}, writes = (c.new || 0) + (c.update || 0), reason = "";
    var allOrNothing = batch.options && batch.options.all_or_nothing;
    var bad = (c.invalid || 0) + (c.duplicate || 0);  // a duplicate row is not imported either
    if (allOrNothing && bad > 0) reason = fmt(T.commit_all_or_nothing, { n: number(bad) });
    else if (!writes) reason = T.commit_nothing;
    else if (batch.can_commit === false) reason = T.commit_refused;
    return { writes: writes, reason: reason };
  }
  function errorLinks(batch) {
    var c = batch.counts || {}, any = (c.invalid || 0) + (c.duplicate || 0) > 0;
    var href = (batch.links && batch.links.errors) || (API + "/batches/" + batch.id + "/errors.xlsx");
    ["import-errors", "import-result-errors"].forEach(function (id) {
      el(id).href = href;
      show(el(id), any);
    });
  }
  function renderPreview(batch, freshRows) {
    sections(["import-preview"]);
    step("preview"); setState("preview");
    message(batch.error || "");
    show(el("import-commit-bar"), true);
    var commit = commitState(batch), button = el("import-commit");
    el("import-commit-label").textContent = fmt(T.commit, { n: number(commit.writes) });
    button.disabled = !!commit.reason;
    button.title = commit.reason;
    el("import-commit-reason").textContent = commit.reason;
    show(el("import-commit-reason"), !!commit.reason);
    errorLinks(batch);
    renderTabs(batch);
    if (freshRows) loadRows();
  }
  function commit() {
    var button = el("import-commit");
    button.disabled = true;
    message("");
    // The dry run shown goes with it: a check made since in another tab is not imported unseen.
    var body = { prepared_at: state.batch && state.batch.prepared_at };
    http.api("/batches/" + state.batchId + "/commit", { method: "POST", body: body }).then(render, function (error) {
      button.disabled = false;
      refused(error);
    });
  }
  function bindPreview() {
    el("import-prev").addEventListener("click", function () { if (state.page > 1) { state.page -= 1; loadRows(); } });
    el("import-next").addEventListener("click", function () { state.page += 1; loadRows(); });
    el("import-page-go").addEventListener("submit", function (event) {
      event.preventDefault();
      var input = el("import-page-input"), wanted = Math.round(Number(input.value));
      var pages = Math.max(1, Math.ceil(state.total / PAGE_SIZE));
      if (!wanted) return;
      state.page = Math.min(Math.max(wanted, 1), pages);
      loadRows();
    });
    el("import-commit").addEventListener("click", commit);
    el("import-back").addEventListener("click", function () {
      message("");
      window.history.pushState({ batch: state.batchId, step: "mapping" }, "", window.location.pathname);
      renderMapping(state.batch);
    });
  }

  // -- 4 result ----------------------------------------------------------------------------
  function renderResult(batch, freshRows) {
    sections(["import-result", "import-preview"]);
    step("result"); setState("result");
    show(el("import-commit-bar"), false);
    show(el("import-blocked"), false);
    // A failed undo leaves the batch committed, with the reason in ``error``.
    message(batch.status === "failed" ? "" : batch.error || batch.notice || "", "warning");
    var summary = el("import-result-summary"), c = batch.counts || {};
    if (batch.status === "committed") {
      summary.className = "alert alert-success";
      summary.textContent = fmt(T.committed, { created: number(c.created), updated: number(c.updated), skipped: number(c.skipped) });
    } else if (batch.status === "undone") {
      summary.className = "alert alert-info";
      summary.textContent = state.partialUndo ? T.undone_partly : T.undone;
    } else {
      summary.className = "alert alert-danger";
      summary.textContent = fmt(T.failed, { reason: batch.error || "" });
    }
    var info = resourceInfo(batch.resource);
    el("import-result-grid").href = info.grid || "#";
    show(el("import-result-grid"), batch.status === "committed" && !!info.grid);
    el("import-result-again").href = info.wizard || "#";
    show(el("import-undo"), !!batch.can_undo);
    el("import-undo").disabled = false;
    errorLinks(batch);
    renderTabs(batch);
    if (freshRows) loadRows();
  }
  function undo(partial) {
    if (!partial && !window.confirm(T.undo_confirm)) return;
    el("import-undo").disabled = true;
    el("import-undo-rest").disabled = true;
    message("");
    http.api("/batches/" + state.batchId + "/undo", { method: "POST", body: { partial: !!partial } }).then(function (batch) {
      el("import-undo-rest").disabled = false;
      state.partialUndo = !!partial;
      render(batch);
    }, function (error) {
      el("import-undo").disabled = false;
      el("import-undo-rest").disabled = false;
      var blocked = error.data && error.data.blocked;
      if (error.status === 409 && blocked && blocked.length) {
        var head = el("import-blocked-message");
        P.clear(head);
        head.appendChild(make("strong", "", error.message));
        head.appendChild(make("div", "", fmt(T.undo_blocked, { n: number(blocked.length) })));
        P.fillBlocked(el("import-blocked-table").tBodies[0], blocked, resourceInfo().card);
        show(el("import-blocked"), true);
        el("import-blocked").scrollIntoView({ block: "nearest" });
      } else {
        refused(error);
      }
    });
  }
  function bindResult() {
    el("import-undo").addEventListener("click", function () { undo(false); });
    el("import-undo-rest").addEventListener("click", function () { undo(true); });
    el("import-undo-cancel").addEventListener("click", function () { show(el("import-blocked"), false); });
  }

  // -- start -------------------------------------------------------------------------------
  bindUpload(); bindMapping(); bindPreview(); bindResult();
  window.portalImportWizard = { state: state };
  /* Back or Forward between the wizard's entries: the upload step (no batch in the entry), or
   * a batch's step, read afresh — the columns while they may still be changed, else what the
   * batch's status says. */
  function historyStep(event) {
    var entry = event.state;
    clearTimeout(state.timer);
    message("");
    if (!entry || !entry.batch) {
      state.batch = null; state.batchId = null;
      el("import-file").value = "";
      loadSchema(state.resource).then(renderUpload, fail);
      return;
    }
    http.api("/batches/" + entry.batch).then(function (batch) {
      render(batch);
      if (entry.step === "mapping" && batch.status === "previewed") renderMapping(batch);
      root.dataset.historyMoves = String(Number(root.dataset.historyMoves || 0) + 1);  // tests wait on it
    }, fail);
  }
  window.addEventListener("popstate", historyStep);
  if (state.batchId) window.history.replaceState({ batch: state.batchId }, "", window.location.pathname);
  var start = state.batchId ? loadBatch(state.batchId) : loadSchema(state.resource).then(renderUpload);
  start.catch(function (error) { setState("error"); fail(error); });
})();
