#!/bin/sh
# fifo_pair.sh — the two-terminal lesson in one command: a reader and a writer,
# unrelated processes started separately, meet at a FIFO's name.
#
# Run:    sh fifo_pair.sh ./fifo_writer ./fifo_reader
# Prints: hello / world from the reader, then one status line from each side.
set -eu
writer=$1
reader=$2
fifo="${TMPDIR:-/tmp}/ipckit-$$-pair.fifo"
trap 'rm -f "$fifo"' EXIT
mkfifo "$fifo"
"$reader" "$fifo" &
"$writer" "$fifo" hello world
wait $!
ls -l "$fifo" | cut -c1    # still there after both exited: p
