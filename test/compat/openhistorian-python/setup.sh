#!/usr/bin/env bash
# Prepares what run.sh needs, outside the repository, idempotently and without the internet:
#   1. Debian's python3 and python3-numpy (the client's only dependency);
#   2. a copy of the unmodified openhistorian-python client (its src/ folder) exported from
#      $OPENHISTORIAN_PYTHON_DIR, or else from the git mirror /work/.mirror/GridProtectionAlliance+openhistorian-python*.
# Writes $ARBOR_COMPAT_DIR/env.sh (COMPAT_PYTHON, OPENHISTORIAN_PYTHON_SRC) for run.sh to source.
#
# Environment:
#   ARBOR_COMPAT_DIR          work directory (default ${TMPDIR:-/tmp}/arbordb-compat-openhistorian-python)
#   OPENHISTORIAN_PYTHON_DIR  a checkout of the client (a directory with src/openHistorian) or a git dir
#   OPENHISTORIAN_PYTHON_REF  commit to export from a git dir (default HEAD; read at 2d26213)
#   PYTHON                    interpreter (default /usr/bin/python3)
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../../.." && pwd)"
work="${ARBOR_COMPAT_DIR:-${TMPDIR:-/tmp}/arbordb-compat-openhistorian-python}"
python="${PYTHON:-/usr/bin/python3}"
ref="${OPENHISTORIAN_PYTHON_REF:-HEAD}"

case "$(realpath -m "$work")/" in
  "$repo"/*) echo "setup.sh: ARBOR_COMPAT_DIR ($work) must be outside the repository" >&2; exit 2 ;;
esac
mkdir -p "$work"

# --- 1. python3 + numpy ----------------------------------------------------------------------
if ! [[ -x "$python" ]] || ! "$python" -c 'import numpy' 2>/dev/null; then
  missing=(python3 python3-numpy)
  echo "setup.sh: installing ${missing[*]}"
  sudo=()
  if [[ $(id -u) -ne 0 ]]; then
    command -v sudo >/dev/null || { echo "setup.sh: need python3 and python3-numpy: apt-get install python3 python3-numpy (as root)" >&2; exit 1; }
    sudo=(sudo)
  fi
  "${sudo[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
"$python" -c 'import numpy' || { echo "setup.sh: $python cannot import numpy (set PYTHON)" >&2; exit 1; }

# --- 2. the client's source ------------------------------------------------------------------
source_dir="${OPENHISTORIAN_PYTHON_DIR:-}"
if [[ -z "$source_dir" ]]; then
  for d in /work/.mirror/GridProtectionAlliance+openhistorian-python*/repo /work/.mirror/GridProtectionAlliance+openhistorian-python*; do
    if [[ -f "$d/HEAD" && -d "$d/objects" ]]; then source_dir="$d"; break; fi
  done
fi
if [[ -z "$source_dir" ]]; then
  cat >&2 <<'MSG'
setup.sh: the openhistorian-python client is missing. Get it and point OPENHISTORIAN_PYTHON_DIR at it:
  git clone https://github.com/GridProtectionAlliance/openhistorian-python /tmp/openhistorian-python
  export OPENHISTORIAN_PYTHON_DIR=/tmp/openhistorian-python
MSG
  exit 1
fi
src="$work/openhistorian-python"
stamp="$work/source.stamp"
want="$source_dir@$ref"
if [[ ! -f "$stamp" || "$(cat "$stamp")" != "$want" || ! -d "$src/src/openHistorian" ]]; then
  rm -rf "$src"
  mkdir -p "$src"
  if [[ -d "$source_dir/src/openHistorian" ]]; then
    cp -R "$source_dir/src" "$src/src"
  elif [[ -f "$source_dir/HEAD" ]]; then
    git --git-dir="$source_dir" archive "$ref" src | tar -x -C "$src"
  else
    echo "setup.sh: $source_dir is neither a checkout (src/openHistorian) nor a git dir" >&2
    exit 1
  fi
  echo "$want" >"$stamp"
  echo "setup.sh: client source from $want"
fi
[[ -f "$src/src/openHistorian/historianConnection.py" ]] || { echo "setup.sh: $src/src has no openHistorian package" >&2; exit 1; }

cat >"$work/env.sh" <<ENV
COMPAT_PYTHON='$python'
OPENHISTORIAN_PYTHON_SRC='$src/src'
ENV
