# Turns a deploy/ snippet into the private stack's version: the same file with the domain,
# component port and secret of this stack. Fails if a placeholder is missing, so the snippet
# and the stack cannot drift apart silently. SPDX-License-Identifier: GPL-3.0-or-later

SNIPPET_DOMAIN=rooms.example.com
SNIPPET_PORT=5347
SNIPPET_SECRET=CHANGE-ME-to-a-long-random-secret

# render_snippet SRC DEST DOMAIN PORT SECRET
render_snippet() {
  local src=$1 dest=$2 domain=$3 port=$4 secret=$5 placeholder
  for placeholder in "$SNIPPET_DOMAIN" "$SNIPPET_PORT" "$SNIPPET_SECRET"; do
    grep -qF -- "$placeholder" "$src" || die "$src no longer contains '$placeholder'"
  done
  [[ "$domain$secret" =~ ^[A-Za-z0-9.-]+$ ]] || die "domain/secret must be [A-Za-z0-9.-]"
  sed -e "s/${SNIPPET_DOMAIN//./\\.}/$domain/g" \
      -e "s/\\b$SNIPPET_PORT\\b/$port/g" \
      -e "s/$SNIPPET_SECRET/$secret/g" "$src" >"$dest"
}
