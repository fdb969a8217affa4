# SPDX-License-Identifier: MIT
# penguinmails.jq - placeholder: the penguinmails payload format (to be written).
.
