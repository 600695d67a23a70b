#!/usr/bin/env bash
# The venv the django-import-export side of bench/import_speed.py runs in, apart from the
# portal's: Django, django-import-export 4.4 with tablib's xlsx support (openpyxl), psycopg.
# Idempotent: a venv that already has the pinned versions is left as it is.
#
#   bash bench/dje/setup.sh            # → bench/.dje-venv (git-ignored); DJE_VENV names another
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
VENV="${DJE_VENV:-$HERE/../.dje-venv}"
PYTHON="${DJE_PYTHON:-python3}"
REQUIREMENTS=("django-import-export[xlsx]==4.4.*" "Django==5.2.*" "psycopg[binary]==3.*")

if [ ! -x "$VENV/bin/python" ]; then
    "$PYTHON" -m venv "$VENV"
fi
if "$VENV/bin/python" - <<'PY' 2>/dev/null
import django, import_export, openpyxl, psycopg, tablib
assert import_export.__version__.startswith("4.4.") and django.VERSION[:2] == (5, 2)
PY
then
    echo "dje venv ready: $VENV"
    exit 0
fi
"$VENV/bin/python" -m pip install --quiet --upgrade pip
"$VENV/bin/python" -m pip install --quiet "${REQUIREMENTS[@]}"
"$VENV/bin/python" -c "import django, import_export; print('dje venv ready:', '$VENV', 'Django', django.get_version(), 'django-import-export', import_export.__version__)"
