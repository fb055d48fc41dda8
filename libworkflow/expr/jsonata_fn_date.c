/* JSONata's date/time functions: $fromMillis, $toMillis, $now. */
#include "jsonata_fn.h"

const jnative jfn_date_table[] = {{NULL, NULL, NULL, 0}};
