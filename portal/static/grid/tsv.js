/* Tab-separated text as Excel puts it on the clipboard, and back (RFC 4180 quoting with
 * tabs). Tabulator's own paste parser splits on "\n" only: Excel's CRLF then leaves a "\r"
 * in every last cell and a blank trailing row that overwrites the row below the paste.
 *
 *   parse("a\tb\r\n\"x\r\ny\"\tc\r\n") → [["a", "b"], ["x\ny", "c"]]
 *
 * A quoted cell may hold tabs, line breaks and doubled quotes (""); line breaks inside a
 * cell become "\n". The one empty line Excel adds after the last row is dropped. */
(function (root) {
  "use strict";

  function parse(text) {
    var rows = [], row = [], cell = "", i = 0, n = text.length, quoted = false, ch;
    if (text.charCodeAt(0) === 0xfeff) i = 1;  // a byte-order mark from some sources
    var startOfCell = true;
    while (i < n) {
      ch = text[i];
      if (quoted) {
        if (ch === '"') {
          if (text[i + 1] === '"') { cell += '"'; i += 2; continue; }
          quoted = false; i += 1; continue;
        }
        if (ch === "\r") { cell += "\n"; i += text[i + 1] === "\n" ? 2 : 1; continue; }
        cell += ch; i += 1; continue;
      }
      if (ch === '"' && startOfCell) { quoted = true; startOfCell = false; i += 1; continue; }
      if (ch === "\t") { row.push(cell); cell = ""; startOfCell = true; i += 1; continue; }
      if (ch === "\r" || ch === "\n") {
        row.push(cell); rows.push(row); row = []; cell = ""; startOfCell = true;
        i += (ch === "\r" && text[i + 1] === "\n") ? 2 : 1;
        continue;
      }
      cell += ch; startOfCell = false; i += 1;
    }
    if (cell !== "" || row.length || quoted) { row.push(cell); rows.push(row); }
    return rows;
  }

  function quote(value) {
    var text = value === null || value === undefined ? "" : String(value);
    if (/[\t\r\n"]/.test(text)) return '"' + text.replace(/"/g, '""') + '"';
    return text;
  }

  /* Rows of cell texts → TSV with CRLF line ends, as Excel writes it. */
  function stringify(rows) {
    return rows.map(function (r) { return r.map(quote).join("\t"); }).join("\r\n") + "\r\n";
  }

  root.PortalTSV = { parse: parse, stringify: stringify };
})(window);
