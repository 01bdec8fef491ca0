# Shared by tools/ensure_*.sh (sourced, not run): make sure a system tool is present,
# installing its Debian package with apt-get when it is not. Nothing is downloaded from
# anywhere else.
#
#   ensure_with_apt WHO WHAT PACKAGE CHECK
#
# WHO names the calling script in messages, WHAT is the tool in words ("Java 17+"), PACKAGE
# the Debian package that provides it, CHECK a command that succeeds when the tool is usable.
# Returns 0 when the tool is (or now is) present; prints what went wrong and returns 1 if not.

ensure_with_apt() {
    local who=$1 what=$2 package=$3 check=$4
    if "$check"; then
        return 0
    fi
    if ! command -v apt-get >/dev/null 2>&1; then
        echo "$who: $what is missing and apt-get is not available; install $package by hand" >&2
        return 1
    fi
    local sudo=""
    if [ "$(id -u)" -ne 0 ]; then
        if command -v sudo >/dev/null 2>&1; then
            sudo="sudo"
        else
            echo "$who: $what is missing and installing it needs root (no sudo found)" >&2
            return 1
        fi
    fi
    local log
    log=$(mktemp)
    if ! { $sudo apt-get update -qq && \
           DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "$package"; } \
           >"$log" 2>&1; then
        cat "$log" >&2
        rm -f "$log"
        echo "$who: installing $package with apt-get failed (output above)" >&2
        return 1
    fi
    rm -f "$log"
    if ! "$check"; then
        echo "$who: apt-get finished but $what is still missing" >&2
        return 1
    fi
}
