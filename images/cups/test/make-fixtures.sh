#!/bin/bash
# Writes page.pdf: a one-page A4 PDF 1.4 (one line of Helvetica text), the document the
# proofs print. Plain ASCII, so bash's ${#s} is the byte count the xref table needs.
set -o errexit -o nounset -o pipefail
cd "$(dirname "$0")"

text="kiln cups proof page"
stream="BT /F1 24 Tf 72 770 Td ($text) Tj ET"
objects=(
  "<< /Type /Catalog /Pages 2 0 R >>"
  "<< /Type /Pages /Kids [3 0 R] /Count 1 >>"
  "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R /Resources << /Font << /F1 5 0 R >> >> >>"
  "<< /Length ${#stream} >>
stream
$stream
endstream"
  "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>"
)

pdf=$'%PDF-1.4\n'
offsets=()
for i in "${!objects[@]}"; do
  offsets+=("${#pdf}")
  pdf+="$((i + 1)) 0 obj
${objects[$i]}
endobj
"
done
xref="${#pdf}"
pdf+="xref
0 $((${#objects[@]} + 1))
0000000000 65535 f 
"
for o in "${offsets[@]}"; do pdf+="$(printf '%010d 00000 n ' "$o")
"; done
pdf+="trailer
<< /Size $((${#objects[@]} + 1)) /Root 1 0 R >>
startxref
$xref
%%EOF
"
printf '%s' "$pdf" > page.pdf
