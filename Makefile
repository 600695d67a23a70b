# Two commands for a fresh machine: `make run` and `make test` (see README.md).
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
FLASK  := $(BIN)/flask --app wsgi
HOST   ?= 127.0.0.1
PORT   ?= 5000

.PHONY: run test install translations assets db demo i18n-extract clean

$(BIN)/python:
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python 3.11 or newer is needed (set PYTHON=python3.11)")'
	$(PYTHON) -m venv $(VENV)

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	@touch $@

install: $(VENV)/.installed

# Compiled catalogs are build output (.mo files are not committed).
translations: install
	@$(BIN)/pybabel compile --use-fuzzy -d portal/translations -D messages 2>&1 | grep -v '^compiling' || true

# Front-end libraries come from npm with package-lock.json and are served by the portal.
assets:
	@if [ -f package-lock.json ]; then npm ci --no-audit --no-fund --loglevel=error && $(BIN)/python -m portal.assets; fi

db: install translations
	$(FLASK) db upgrade
	$(FLASK) portal init

run: install translations assets db
	$(FLASK) portal seed --demo --if-empty
	@echo
	@echo "  客户档案管理 / Customer archive portal:  http://$(HOST):$(PORT)"
	@$(FLASK) portal logins
	@echo
	$(FLASK) run --host $(HOST) --port $(PORT)

# Everything, the browser tests included (a bare `pytest` leaves them out: fast by default).
test: install translations assets
	$(BIN)/pytest -m "browser or not browser"

# Refresh the catalog template from the portal's and Flask-AppBuilder's sources, then
# merge it into the zh_CN catalog (translate the new entries, then commit the .po).
# The catalog lives in zh_Hans_CN/: Babel parses zh_CN as zh_Hans_CN and Flask-Babel looks
# for that directory name (then plain zh, which is Flask-AppBuilder's outdated catalog).
# The templates are named file by file: babel.cfg matches `**/templates/**.html` against
# paths relative to the directory given, so passing `templates` itself would skip them.
# gettext, _ and ngettext are among pybabel's default keywords (re-declaring ngettext
# with -k would drop its plural argument).
# lazy_formatter_gettext is Flask-AppBuilder's (user form descriptions of roles and groups).
i18n-extract: install
	$(BIN)/pybabel extract -F babel.cfg -k lazy_gettext -k _l -k __ -k lazy_formatter_gettext \
	    -o portal/translations/messages.pot \
	    portal $$(find templates -name '*.html' | sort) \
	    $$($(BIN)/python -c 'import flask_appbuilder, os; print(os.path.dirname(flask_appbuilder.__file__))')
	$(BIN)/pybabel update -i portal/translations/messages.pot -d portal/translations -l zh_Hans_CN --no-fuzzy-matching

clean:
	rm -rf $(VENV) node_modules portal/static/vendor
