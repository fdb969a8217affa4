# SPDX-License-Identifier: MIT
# sendgrid.jq - placeholder: the sendgrid payload format (to be written).
.
