#!/usr/bin/env bash
# Back up the register: the PostgreSQL database (pg_dump, custom format) and the uploaded personnel
# documents, with a manifest of SHA-256 sums (docs/operations.md, "Backups").
#   DATABASE_URL=postgresql://USER@HOST/profreg UPLOAD_FOLDER=/srv/profreg/documents bash scripts/backup.sh DIR
# DIR must not exist or be empty. Exit code 0 only when the dump and every document are in DIR and the
# manifest checks.
set -euo pipefail
dir="${1:?usage: scripts/backup.sh DIR (DATABASE_URL and UPLOAD_FOLDER from the environment)}"
url="${DATABASE_URL:?DATABASE_URL is not set}"
url="${url/postgresql+psycopg:/postgresql:}"; url="${url/postgres:/postgresql:}"
case "$url" in postgresql://*) ;; *) echo "backup: DATABASE_URL must be a PostgreSQL URL" >&2; exit 2;; esac
if [ -e "$dir" ] && [ -n "$(ls -A "$dir")" ]; then echo "backup: $dir is not empty" >&2; exit 2; fi
mkdir -p "$dir/documents"
started=$(date -u +%Y-%m-%dT%H:%M:%SZ)
pg_dump --format=custom --compress=6 --no-owner --file="$dir/database.dump" "$url"
if [ -n "${UPLOAD_FOLDER:-}" ] && [ -d "$UPLOAD_FOLDER" ]; then
  cp -a "$UPLOAD_FOLDER/." "$dir/documents/"
else
  echo "backup: no UPLOAD_FOLDER (or it does not exist): documents not included" >&2
fi
revision=$(psql -X -A -t -c "SELECT string_agg(version_num, ',') FROM alembic_version" "$url" 2>/dev/null || true)
{
  echo "started=$started"
  echo "finished=$(date -u +%Y-%m-%dT%H:%M:%SZ)"
  echo "alembic_revision=${revision}"
  echo "documents=$(find "$dir/documents" -type f | wc -l)"
} > "$dir/backup.info"
(cd "$dir" && find . -type f ! -name MANIFEST.sha256 -print0 | sort -z | xargs -0 -r sha256sum > MANIFEST.sha256)
(cd "$dir" && sha256sum --quiet -c MANIFEST.sha256)
echo "backup: $dir ($(du -sh "$dir" | cut -f1), $(wc -l < "$dir/MANIFEST.sha256") files, revision ${revision:-unknown})"
