#!/bin/sh
# Re-fetch the CSS, JS and fonts GX's Data Docs pages load from CDNs, from the npm registry, into
# reporting/docs_assets/vendor/ (committed). Versions are the ones GX 1.24.1's templates ask for.
# Run after a GX upgrade changes them; reporting/data_docs.py maps each CDN URL to a file here.
set -eu
target="$(cd "$(dirname "$0")/.." && pwd)/reporting/docs_assets/vendor"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
cd "$work"
fetch() {  # fetch PACKAGE@VERSION FOLDER FILE...
    spec="$1"; folder="$2"; shift 2
    tarball="$(npm pack --silent "$spec" | tail -1)"
    mkdir -p "unpacked/$folder" "$target/$folder"
    tar xzf "$tarball" -C "unpacked/$folder"
    # The license: its file, or package.json (which names it) for packages that ship none.
    license="$(cd "unpacked/$folder/package" && ls -d LICENSE* 2>/dev/null | head -1)"
    for file in "$@" "${license:-package.json}"; do
        source="$(ls -d unpacked/$folder/package/$file* 2>/dev/null | head -1)"
        [ -n "$source" ] || { echo "missing $file in $spec" >&2; exit 1; }
        mkdir -p "$target/$folder/$(dirname "$file")"
        cp "$source" "$target/$folder/$file"
    done
}
rm -rf "$target"
fetch bootstrap@4.3.1 bootstrap dist/css/bootstrap.min.css dist/js/bootstrap.min.js
fetch bootstrap-table@1.19.1 bootstrap-table dist/bootstrap-table.min.css dist/bootstrap-table.min.js \
    dist/extensions/filter-control/bootstrap-table-filter-control.min.css \
    dist/extensions/filter-control/bootstrap-table-filter-control.min.js
fetch bootstrap-datepicker@1.9.0 bootstrap-datepicker dist/css/bootstrap-datepicker.min.css \
    dist/js/bootstrap-datepicker.min.js
fetch @forevolve/bootstrap-dark@1.1.0 bootstrap-dark dist/css/bootstrap-prefers-dark.min.css
fetch @fortawesome/fontawesome-free@6.6.0 fontawesome css/all.min.css webfonts/fa-brands-400.woff2 \
    webfonts/fa-regular-400.woff2 webfonts/fa-solid-900.woff2 webfonts/fa-v4compatibility.woff2
fetch jquery@3.7.1 jquery dist/jquery.min.js
fetch popper.js@1.12.9 popper dist/umd/popper.min.js
fetch vega@5.33.1 vega build/vega.min.js
fetch vega-lite@5.23.0 vega-lite build/vega-lite.min.js
fetch vega-embed@6.29.0 vega-embed build/vega-embed.min.js
echo "vendored into $target"
