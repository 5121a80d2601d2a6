#!/usr/bin/env bash
# Restore a backup made by scripts/backup.sh into an EMPTY PostgreSQL database (and an upload folder):
#   bash scripts/restore.sh DIR TARGET_DATABASE_URL [TARGET_UPLOAD_FOLDER]
# The manifest is checked first: a damaged or incomplete backup is refused before anything is written.
set -euo pipefail
dir="${1:?usage: scripts/restore.sh DIR TARGET_DATABASE_URL [TARGET_UPLOAD_FOLDER]}"
url="${2:?usage: scripts/restore.sh DIR TARGET_DATABASE_URL [TARGET_UPLOAD_FOLDER]}"
uploads="${3:-}"
url="${url/postgresql+psycopg:/postgresql:}"; url="${url/postgres:/postgresql:}"
[ -f "$dir/MANIFEST.sha256" ] || { echo "restore: $dir has no MANIFEST.sha256" >&2; exit 2; }
(cd "$dir" && sha256sum --quiet -c MANIFEST.sha256) || { echo "restore: the backup does not match its manifest" >&2; exit 2; }
tables=$(psql -X -A -t -c "SELECT count(*) FROM information_schema.tables WHERE table_schema='public'" "$url")
if [ "$tables" != "0" ]; then echo "restore: the target database is not empty ($tables tables)" >&2; exit 2; fi
pg_restore --no-owner --exit-on-error --jobs="${RESTORE_JOBS:-2}" --dbname="$url" "$dir/database.dump"
psql -X -q -c "ANALYZE" "$url"
if [ -n "$uploads" ]; then
  mkdir -p "$uploads"
  cp -a "$dir/documents/." "$uploads/"
fi
echo "restore: $(grep alembic_revision "$dir/backup.info") restored into the target; documents: $(find "$dir/documents" -type f | wc -l)"
