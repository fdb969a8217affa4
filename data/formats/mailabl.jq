# SPDX-License-Identifier: MIT
# mailabl.jq - placeholder: the mailabl payload format (to be written).
.
