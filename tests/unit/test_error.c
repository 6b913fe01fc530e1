/* tests/unit/test_error.c - weft_strerror() and weft_err_name().
 *
 * Users print these in every error path, so: every code has its own name and a message, the
 * list has no holes or duplicates, negated errno values get the C library's text, and nothing
 * ever returns NULL.
 */
#include <errno.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

#include <weft/error.h>

static void test_error_every_code_has_its_name_and_message(void **state)
{
    (void)state;
#define CHECK_(name, value, msg)                                  \
    assert_string_equal(weft_err_name(WEFT_##name), "WEFT_" #name); \
    assert_string_equal(weft_strerror(WEFT_##name), msg);
    WEFT_ERRNO_MAP(CHECK_)
#undef CHECK_
}

/* The codes run from -1 down to WEFT_ELAST_ + 1 without gaps, and no two share a name. */
static void test_error_codes_are_contiguous_and_distinct(void **state)
{
    (void)state;
    for (int e = -1; e > WEFT_ELAST_; e--) {
        assert_string_not_equal(weft_err_name(e), "WEFT_E?");
        for (int f = e - 1; f > WEFT_ELAST_; f--)
            assert_string_not_equal(weft_err_name(e), weft_err_name(f));
    }
    assert_string_equal(weft_err_name(WEFT_ELAST_), "WEFT_E?");
}

static void test_error_elapsed_is_timed_out(void **state)
{
    (void)state;
    assert_int_equal(WEFT_EELAPSED, WEFT_ETIMEDOUT);
    assert_string_equal(weft_err_name(WEFT_EELAPSED), "WEFT_ETIMEDOUT");
}

/* Values past weft's range are negated errno numbers and read as such. */
static void test_error_negated_errno_uses_libc_text(void **state)
{
    (void)state;
    assert_string_equal(weft_strerror(-ECONNREFUSED), "Connection refused");
    assert_string_equal(weft_strerror(-EPIPE), "Broken pipe");
    assert_string_equal(weft_err_name(-ECONNREFUSED), "WEFT_E?");
}

static void test_error_zero_positive_and_extremes_never_null(void **state)
{
    (void)state;
    assert_string_equal(weft_strerror(0), "success");
    assert_string_equal(weft_strerror(1), "unknown error");
    assert_string_equal(weft_strerror(INT_MAX), "unknown error");
    assert_string_equal(weft_strerror(INT_MIN), "unknown error");
    assert_non_null(weft_strerror(-100000));
    assert_true(strlen(weft_strerror(-100000)) > 0);
    assert_string_equal(weft_err_name(0), "WEFT_E?");
    assert_string_equal(weft_err_name(INT_MIN), "WEFT_E?");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_error_every_code_has_its_name_and_message),
        cmocka_unit_test(test_error_codes_are_contiguous_and_distinct),
        cmocka_unit_test(test_error_elapsed_is_timed_out),
        cmocka_unit_test(test_error_negated_errno_uses_libc_text),
        cmocka_unit_test(test_error_zero_positive_and_extremes_never_null),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
