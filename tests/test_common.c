#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "workflow/workflow.h"

Test(common, error_names_come_from_one_list) {
  cr_assert_str_eq(wf_error_name(WF_OK), "WF_OK");
  cr_assert_str_eq(wf_error_name(WF_EINVALID), "WF_EINVALID");
  cr_assert_str_eq(wf_error_name(WF_EABI), "WF_EABI");
  cr_assert_str_eq(wf_error_name(12345), "WF_EUNKNOWN");
  cr_assert_str_eq(wf_error_str(WF_ENOMEM), "out of memory");
  cr_assert_str_eq(wf_error_str(-999), "unknown error");
}

Test(common, version_string_matches_macros) {
  char want[32];
  snprintf(want, sizeof want, "%d.%d.%d", WF_VERSION_MAJOR, WF_VERSION_MINOR,
           WF_VERSION_PATCH);
  cr_assert_str_eq(wf_version_string(), want);
}

Test(common, allocator_cannot_change_after_first_use) {
  wf_machine *m = NULL;
  wf_machine_load_json(&m, "{\"StartAt\":\"A\",\"States\":{\"A\":{\"Type\":"
                           "\"Succeed\"}}}", NULL, NULL);
  wf_machine_free(m);
  wf_allocator a = {WF_ALLOCATOR_VERSION, NULL, NULL, NULL, NULL};
  cr_assert_eq(wf_allocator_set(&a), WF_EBUSY);
}
