"""The spreadsheet grid's server side: column schema and rows, read from the field
registry and through the security gate (row scope, masking). No Flask in here."""
