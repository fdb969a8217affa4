# SPDX-License-Identifier: MIT
# postmark.jq - placeholder: the postmark payload format (to be written).
.
