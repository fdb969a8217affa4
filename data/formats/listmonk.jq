# SPDX-License-Identifier: MIT
# listmonk.jq - placeholder: the listmonk payload format (to be written).
.
