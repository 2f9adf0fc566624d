/*  Unit test: the node dictionary — values, updates, growth that follows the size. */
#include "../worker/dict.h"
#include "check.h"

#include <stdio.h>

int main(void)
{
    dict_t *dict = dict_new();
    CHECK(dict_find(dict, "X") == NULL && dict_size(dict) == 0);
    dict_set(dict, "X", 5);
    CHECK(dict_find(dict, "X") && *dict_find(dict, "X") == 5);
    dict_set(dict, "X", -7);
    CHECK(*dict_find(dict, "X") == -7 && dict_size(dict) == 1);
    CHECK(dict_find(dict, "x") == NULL); //  case-sensitive
    //  Many names: every one found with its value, none lost in the growth.
    char name[32];
    for (int i = 0; i < 300000; i++) {
        snprintf(name, sizeof name, "n%d", i);
        dict_set(dict, name, i);
    }
    CHECK(dict_size(dict) == 300001);
    int wrong = 0;
    for (int i = 0; i < 300000; i++) {
        snprintf(name, sizeof name, "n%d", i);
        int64_t *value = dict_find(dict, name);
        wrong += !value || *value != i;
    }
    CHECK(wrong == 0);
    dict_destroy(&dict);
    CHECK(dict == NULL);
    dict_destroy(&dict);
    return check_report("dict");
}
