#!/usr/bin/env bash
# Prepares everything test/compat/btrdb-python/run.sh needs, outside the repository, idempotently:
#   1. Debian packages for the unmodified btrdb-python client and its integration tests;
#   2. a copy of the client's source (btrdb/ and tests/) from $BTRDB_PYTHON_DIR or a git mirror;
#   3. a minimal `pyarrow` stand-in so that `import btrdb` and the non-Arrow integration tests
#      load without pyarrow;
#   4. when a directory of wheels holds them (default /opt/pypi/files, the machine image's local
#      wheels), the real pyarrow, pandas ≥ 2, numpy and polars installed into the work dir (never
#      from a registry), so that the Arrow tests can run too.
# Nothing third-party is written into the repository.
#
# Environment:
#   ARBOR_COMPAT_DIR   work directory (default ${TMPDIR:-/tmp}/arbordb-compat-btrdb-python)
#   BTRDB_PYTHON_DIR   a btrdb-python checkout (directory with btrdb/ and tests/) or a git dir;
#                      default: the first git mirror matching /work/.mirror/PingThingsIO+btrdb-python*
#   BTRDB_PYTHON_REF   commit/tag to export from a git dir (default HEAD)
#   PYTHON             interpreter that sees Debian's python3-* packages (default /usr/bin/python3)
#   ARBOR_COMPAT_WHEELS  directory of wheels for step 4 (default /opt/pypi/files; "" = skip step 4)
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../../.." && pwd)"
work="${ARBOR_COMPAT_DIR:-${TMPDIR:-/tmp}/arbordb-compat-btrdb-python}"
python="${PYTHON:-/usr/bin/python3}"
ref="${BTRDB_PYTHON_REF:-HEAD}"

case "$(realpath -m "$work")/" in
  "$repo"/*) echo "setup.sh: ARBOR_COMPAT_DIR ($work) must be outside the repository" >&2; exit 2 ;;
esac
mkdir -p "$work"

# --- 1. Debian packages (apt-get update only when something is missing) --------------------------
packages=(python3 python3-grpcio python3-protobuf python3-pandas python3-pytest python3-numpy python3-yaml
  python3-certifi python3-tz)
missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then missing+=("$p"); fi
done
if ((${#missing[@]})); then
  echo "setup.sh: installing ${missing[*]}"
  sudo=()
  if [[ $(id -u) -ne 0 ]]; then
    command -v sudo >/dev/null || { echo "setup.sh: need root (or sudo) to install ${missing[*]}" >&2; exit 1; }
    sudo=(sudo)
  fi
  "${sudo[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
[[ -x "$python" ]] || { echo "setup.sh: $python not found (set PYTHON)" >&2; exit 1; }

# --- 2. The client's source ---------------------------------------------------------------------
src="$work/btrdb-python"
source_dir="${BTRDB_PYTHON_DIR:-}"
if [[ -z "$source_dir" ]]; then
  for d in /work/.mirror/PingThingsIO+btrdb-python*/repo /work/.mirror/PingThingsIO+btrdb-python*; do
    if [[ -f "$d/HEAD" && -d "$d/objects" ]]; then source_dir="$d"; break; fi
  done
fi
[[ -n "$source_dir" ]] || {
  echo "setup.sh: no btrdb-python found. Get the client (5.34.2) and point BTRDB_PYTHON_DIR at it:" >&2
  echo "  git clone --branch v5.34.2 https://github.com/PingThingsIO/btrdb-python /tmp/btrdb-python" >&2
  echo "  export BTRDB_PYTHON_DIR=/tmp/btrdb-python   # a checkout or a bare git dir both work" >&2
  exit 1
}
if [[ -f "$source_dir/btrdb/__init__.py" && -d "$source_dir/tests/btrdb_integration" ]]; then
  # A checkout: use it in place (read-only).
  src="$source_dir"
  stamp="checkout $source_dir"
elif [[ -f "$source_dir/HEAD" && -d "$source_dir/objects" ]]; then
  commit="$(git --git-dir="$source_dir" rev-parse --verify "$ref^{commit}")"
  stamp="git $source_dir $commit"
  if [[ "$(cat "$src/.arbordb-source" 2>/dev/null)" != "$stamp" ]]; then
    # Export only the paths the tests need: mirrors may lack the large documentation blobs,
    # which rules out `git worktree add` (and a worktree would write into the mirror).
    rm -rf "$src.tmp" && mkdir -p "$src.tmp"
    # (git may still complain about the missing blobs it does not export: hide that, check below.)
    git --git-dir="$source_dir" archive "$commit" -- btrdb btrdb4 tests setup.cfg pyproject.toml 2>/dev/null |
      tar -x -C "$src.tmp"
    [[ -f "$src.tmp/btrdb/__init__.py" && -d "$src.tmp/tests/btrdb_integration" ]] || {
      echo "setup.sh: could not export btrdb/ and tests/ from $source_dir at $commit" >&2
      exit 1
    }
    echo "$stamp" >"$src.tmp/.arbordb-source"
    rm -rf "$src" && mv "$src.tmp" "$src"
  fi
else
  echo "setup.sh: $source_dir is neither a btrdb-python checkout nor a git dir" >&2
  exit 1
fi

# --- 3. The pyarrow stand-in --------------------------------------------------------------------
# btrdb-python (>= 5.30) imports pyarrow and pyarrow.compute at load time and evaluates
# `pa.Table`, `pa.Array` and `pa.Schema` in function annotations; pandas, seeing an importable
# pyarrow, reads `pyarrow.__version__`. Nothing else is touched until an Arrow method is called.
stub="$work/pyarrow-stub"
mkdir -p "$stub/pyarrow"
cat >"$stub/pyarrow/__init__.py" <<'PY'
"""Stand-in for pyarrow written by ArborDB's compat harness (test/compat/btrdb-python/setup.sh).

Only what `import btrdb` and the non-Arrow integration tests touch exists. Any other attribute
raises AttributeError saying so; creating one of the placeholder classes raises NotImplementedError.
"""

# pandas reads this when pyarrow is importable; a version below 1.0 makes pandas ignore pyarrow.
__version__ = "0.0.1+arbordb.stub"


class _Unavailable:
    def __init__(self, *args, **kwargs):
        raise NotImplementedError(f"pyarrow stub: {type(self).__name__} is not available; install pyarrow")


class Table(_Unavailable):
    """Placeholder: btrdb uses pyarrow.Table in annotations evaluated at import time."""


class Array(_Unavailable):
    """Placeholder: used in annotations."""


class Schema(_Unavailable):
    """Placeholder: used in annotations."""


def __getattr__(name):
    raise AttributeError(f"pyarrow stub: pyarrow.{name} is not available (the Arrow tests need the real pyarrow)")
PY
cat >"$stub/pyarrow/compute.py" <<'PY'
"""Stand-in for pyarrow.compute (imported by btrdb.stream at load time; nothing is used)."""


def __getattr__(name):
    raise AttributeError(f"pyarrow stub: pyarrow.compute.{name} is not available")
PY

# --- 4. Real pyarrow (+ pandas 2, numpy, polars) from local wheels, when available -----------------
site="$work/site"
wheels="${ARBOR_COMPAT_WHEELS-/opt/pypi/files}"
want='pyarrow pandas<3 numpy<2 polars'
if [[ -n "$wheels" ]] && compgen -G "$wheels/pyarrow-*.whl" >/dev/null; then
  stamp4="$wheels $want"
  if [[ "$(cat "$site/.arbordb-wheels" 2>/dev/null)" != "$stamp4" ]]; then
    echo "setup.sh: installing pyarrow, pandas, numpy, polars from $wheels into $site"
    rm -rf "$site.tmp"
    # shellcheck disable=SC2086
    if "$python" -m pip install -q --disable-pip-version-check --no-index --find-links "$wheels" --target "$site.tmp" $want \
      2>"$work/pip.log"; then
      echo "$stamp4" >"$site.tmp/.arbordb-wheels"
      rm -rf "$site" && mv "$site.tmp" "$site"
    else
      echo "setup.sh: warning: could not install the wheels (see $work/pip.log); Arrow tests will not run" >&2
      rm -rf "$site.tmp"
    fi
  fi
fi
real_site=''
if [[ -f "$site/.arbordb-wheels" ]] && PYTHONPATH="$site" "$python" -c 'import pyarrow, pandas' 2>/dev/null; then
  real_site="$site"
fi

# --- Check -----------------------------------------------------------------------------------------
version="$(cd "$src" && PYTHONPATH="$stub:$src" "$python" -c 'import btrdb; print(btrdb.__version__)' 2>/dev/null | tail -1)"
collected="$(cd "$src" && PYTHONPATH="$stub:$src" "$python" -m pytest tests/btrdb_integration --collect-only -q \
  -p no:cacheprovider 2>/dev/null | tail -1)"
cat >"$work/env.sh" <<ENV
# Written by $here/setup.sh
BTRDB_PYTHON_SRC='$src'
PYARROW_STUB='$stub'
COMPAT_PYTHON='$python'
REAL_PYARROW_SITE='$real_site'
ENV
echo "setup.sh: btrdb-python $version from $stamp"
echo "setup.sh: $collected"
if [[ -n "$real_site" ]]; then echo "setup.sh: real pyarrow $(PYTHONPATH="$real_site" "$python" -c 'import pyarrow; print(pyarrow.__version__)') in $real_site"
else echo "setup.sh: no real pyarrow (stand-in only: the Arrow tests cannot run)"; fi
echo "setup.sh: ready in $work"
