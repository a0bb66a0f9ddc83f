#!/usr/bin/env bash
# `make demo`: the main job on an embedded default, with the apps as a DCMTK user types them.
# Today: dump sample images, convert them through every uncompressed transfer syntax and back,
# compress them with each lossless codec and back, and send them over the network from our
# storescu to our storescp. The archive (dcmqrscp store/find/retrieve) joins when it lands.
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

echo "== lossless codecs: compress and decompress, pixels must not change"
for f in $SAMPLES; do
  name=$(basename "$f" .dcm)
  for ts in RLELossless JPEGLSLossless JPEGLossless:Non-hierarchical-1stOrderPrediction JPEG2000LosslessOnly; do
    "$BIN/dcmconv" +tu "$ts" "$f" "$OUT/$name-$ts.dcm"
    "$BIN/dcmconv" +te "$OUT/$name-$ts.dcm" "$OUT/$name-$ts-back.dcm"
    "$PY" - "$f" "$OUT/$name-$ts-back.dcm" "$ts" <<'PYEOF'
import sys
import numpy as np
from dcmpy import dcmread
from dcmpy.dcmdata.pixels import pixel_array
a, b = (pixel_array(dcmread(p)) for p in sys.argv[1:3])
assert np.array_equal(a, b), sys.argv[3]
print(f"   ok  {sys.argv[3]:<45} {sys.argv[1].rsplit('/', 1)[-1]}")
PYEOF
  done
done

echo "== network: our storescu -> our storescp on localhost"
PORT=$("$PY" -c "import socket; s = socket.socket(); s.bind(('127.0.0.1', 0)); print(s.getsockname()[1])")
mkdir -p "$OUT/incoming"
"$BIN/storescp" -od "$OUT/incoming" "$PORT" & SCP=$!
trap 'kill $SCP 2>/dev/null || true' EXIT
for i in $(seq 50); do "$BIN/echoscu" localhost "$PORT" 2>/dev/null && break; sleep 0.1; done
"$BIN/storescu" -v localhost "$PORT" $SAMPLES 2>&1 | grep -E "Association|Store" | head -n 8
sleep 0.5
kill $SCP; trap - EXIT
echo "== received:"; ls -1 "$OUT/incoming"
