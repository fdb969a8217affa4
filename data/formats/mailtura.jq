# SPDX-License-Identifier: MIT
# mailtura.jq - placeholder: the mailtura payload format (to be written).
.
