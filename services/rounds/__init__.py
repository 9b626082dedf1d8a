"""Assessment rounds of a province: opening one (`opening`: the round workflow starts one case per unit), where its
cases stand and its report (`service`), read from the read model (`queries`); `schemas` are what the front doors
return."""
