#!/bin/sh
# One backup of the Signet database into BACKUP_DIR, then the oldest removed so that
# BACKUP_KEEP remain. The secret key is not in a backup: keep a copy of it apart (README).
set -eu
: "${BACKUP_DIR:?BACKUP_DIR must name the folder of the backups}"
keep="${BACKUP_KEEP:-14}"
case "$keep" in '' | *[!0-9]* | 0) echo "signet-backup: BACKUP_KEEP must be a whole number of at least 1" >&2; exit 1 ;; esac
signet="$(dirname "$0")/../bin/signet.js"
mkdir -p "$BACKUP_DIR"
file="$BACKUP_DIR/signet-$(date -u +%Y%m%dT%H%M%SZ).db"
"${NODE:-node}" "$signet" backup "$file"
# Names sort by time; the newest BACKUP_KEEP stay.
ls -1 "$BACKUP_DIR" | grep -E '^signet-[0-9]{8}T[0-9]{6}Z\.db$' | sort -r | tail -n +"$((keep + 1))" | while read -r old; do
  rm -f -- "$BACKUP_DIR/$old"
done
