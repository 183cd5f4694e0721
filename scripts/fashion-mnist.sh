#!/usr/bin/env bash
# Installs Fashion-MNIST from Debian's dataset-fashion-mnist package (the built-in certification task's data) and
# prints the folder that holds its idx files. Run as root or with sudo; safe to run again.
#   scripts/fashion-mnist.sh            install if needed, print the folder
#   export Z4AI_FASHION_MNIST_DIR="$(scripts/fashion-mnist.sh)"   point the task at it explicitly
set -euo pipefail

package=dataset-fashion-mnist
if ! dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q 'install ok installed'; then
    sudo_cmd=""
    if [ "$(id -u)" -ne 0 ]; then
        sudo_cmd="sudo"
    fi
    echo "installing $package..." >&2
    $sudo_cmd apt-get update -qq >&2 || true
    DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq --no-install-recommends "$package" >&2
fi

images="$(dpkg -L "$package" | grep -E '/t10k-images-idx3-ubyte(\.gz)?$' | head -n 1)"
if [ -z "$images" ] || [ ! -f "$images" ]; then
    echo "$package is installed but lists no t10k-images-idx3-ubyte file" >&2
    exit 1
fi

dir="$(dirname "$images")"
for name in t10k-images-idx3-ubyte t10k-labels-idx1-ubyte train-images-idx3-ubyte train-labels-idx1-ubyte; do
    if [ ! -f "$dir/$name.gz" ] && [ ! -f "$dir/$name" ]; then
        echo "missing $dir/$name(.gz)" >&2
        exit 1
    fi
done
echo "$dir"
