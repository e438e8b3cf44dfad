#!/bin/sh
# fifo_server_demo.sh — a server and three clients started as separate,
# unrelated processes, meeting at the server's well-known FIFO.
#
# Run:    sh fifo_server_demo.sh ./fifo_server ./fifo_client
# Prints: one line per client, then the server's lines.
set -eu
server=$1
client=$2
srv="${TMPDIR:-/tmp}/ipckit-$$-demo.srv"
trap 'rm -f "$srv" "$srv.log"' EXIT
mkfifo "$srv"              # made first, so no client finds the name missing
"$server" "$srv" 3 > "$srv.log" &
"$client" "$srv" one &
"$client" "$srv" two &
"$client" "$srv" three
wait
cat "$srv.log"
rm -f "$srv.log"
