#!/bin/sh
# Each folder may include headers only from itself and the folders listed before it:
# the pipeline reads bottom-up, and no lower layer knows a higher one.
# Usage: tools/layers.sh lib netns parse ... (lowest first). Exit 1 on a violation.
bad=0
seen=""
for layer in "$@"; do
	seen="$seen $layer"
	for f in "$layer"/*.[ch]; do
		[ -e "$f" ] || continue
		for inc in $(sed -n 's/^#include "\([^"]*\)".*/\1/p' "$f"); do
			dir=${inc%%/*}
			[ "$dir" = "$inc" ] && { echo "$f: includes \"$inc\" without its layer folder"; bad=1; continue; }
			case " $seen " in
			*" $dir "*) ;;
			*) echo "$f: includes \"$inc\", from a layer above $layer"; bad=1 ;;
			esac
		done
	done
done
exit $bad
