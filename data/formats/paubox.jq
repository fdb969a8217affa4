# SPDX-License-Identifier: MIT
# paubox.jq - placeholder: the paubox payload format (to be written).
.
