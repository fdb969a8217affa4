# SPDX-License-Identifier: MIT
# mailgun.jq - placeholder: the mailgun payload format (to be written).
.
