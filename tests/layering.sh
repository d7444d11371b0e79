#!/usr/bin/env bash
# The include arrows of DESIGN.md, checked on the sources: a file may include its own folder and
# the folders its layer depends on, never one above it.
#   ml/:     run -> {simulate, train, eval}; simulate -> {eval, train}; eval -> models; train -> models;
#            models -> data -> motion -> core; and no Qt anywhere in ml/
#   viewer/: ml only;  app/: ml and app only (services: no widgets);  ui/: anything
# Usage: tests/layering.sh [SOURCE_DIR]   prints each backward include, exits 1 if any.
set -euo pipefail
root=${1:-$(cd "$(dirname "$0")/.." && pwd)}
cd "$root"

declare -A allowed=(
  [ml/core]=""
  [ml/motion]="core"
  [ml/data]="motion core"
  [ml/models]="data motion core"
  [ml/eval]="models data motion core"
  [ml/train]="models data motion core"
  [ml/simulate]="eval train models data motion core"
  [ml/run]="simulate train eval models data motion core"
)

bad=0
report() { echo "layering: $1"; bad=1; }

for folder in "${!allowed[@]}"; do
  while IFS= read -r line; do
    file=${line%%:*}
    target=$(sed -E 's|.*#include "ml/([a-z_]+)/.*|\1|' <<<"$line")
    own=${folder#ml/}
    [[ "$target" == "$own" ]] && continue
    [[ " ${allowed[$folder]} " == *" $target "* ]] && continue
    report "$file includes ml/$target/ ($folder may include: ${allowed[$folder]:-nothing else})"
  done < <(grep -rnE '#include "ml/[a-z_]+/' "$folder" --include=*.h --include=*.cpp || true)
done

# ml/ is Qt-free; viewer/ sees ml only; app/ never sees ui/ or viewer/, and its services
# (everything but the CLI) no widgets.
while IFS= read -r line; do report "$line: Qt in ml/"; done \
  < <(grep -rnE '#include <Q[A-Za-z]+|#include "(app|ui|viewer)/' ml --include=*.h --include=*.cpp || true)
while IFS= read -r line; do report "$line: viewer/ includes a layer above ml/"; done \
  < <(grep -rnE '#include "(app|ui)/' viewer --include=*.h --include=*.cpp || true)
while IFS= read -r line; do report "$line: app/ includes ui/ or viewer/"; done \
  < <(grep -rnE '#include "(ui|viewer)/' app --include=*.h --include=*.cpp || true)
while IFS= read -r line; do report "$line: a widget in an app/ service"; done \
  < <(grep -rnE '#include <(QtWidgets/|Q(Widget|MainWindow|Dialog|PushButton|Label|LineEdit|Layout|ComboBox|Application)\b)' app --include=*.h --include=*.cpp || true)

if [[ $bad -eq 0 ]]; then
  echo "layering: every include points down"
fi
exit $bad
