// SPDX-License-Identifier: GPL-2.0
/*
 * Test-only module for tests/vm/run's own tests: loading it prints a WARNING, which the runner
 * must turn into its splat exit code. It never ships with sgkm.
 */
#include <linux/bug.h>
#include <linux/module.h>

static int __init sgkm_warn_test_init(void)
{
	WARN_ON(1);
	return 0;
}

static void __exit sgkm_warn_test_exit(void)
{
}

module_init(sgkm_warn_test_init);
module_exit(sgkm_warn_test_exit);
MODULE_DESCRIPTION("sgtrace test: a module that hits WARN_ON on load");
MODULE_LICENSE("GPL");
