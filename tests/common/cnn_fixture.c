/* The compression suites' CNN fixture (see cnn_fixture.h). */
#include "cnn_fixture.h"

#include <stdio.h>

#include "nncwt.h"
#include "zoo/zoo.h"

struct nncw_graph *nncwt_cnn(void)
{
    struct nncw_zoo_options zo = nncw_zoo_defaults("cnn");
    struct nncw_graph *g;
    nncwt_assert_status(nncw_zoo_build("cnn", &zo, &g), NNCW_OK);
    return g;
}

struct nncw_dataset *nncwt_cnn_data(int64_t count)
{
    struct nncw_synthetic_opts so = {.count = count,
                                     .channels = 1,
                                     .height = 28,
                                     .width = 28,
                                     .num_classes = 10,
                                     .seed = 3,
                                     .sample_seed = 1};
    struct nncw_dataset *ds;
    nncwt_assert_status(nncw_dataset_new_synthetic(&so, &ds), NNCW_OK);
    return ds;
}

struct nncw_config *nncwt_cnn_config(const char *top, const char *compression)
{
    char json[8192];
    int n = snprintf(json, sizeof json,
                     "{\"input_info\": {\"sample_size\": [1, 1, 28, 28]}, %s\"compression\": %s}",
                     top, compression);
    ck_assert_msg(n > 0 && (size_t)n < sizeof json, "test config longer than %zu bytes",
                  sizeof json);
    struct nncw_config *cfg;
    nncwt_assert_status(nncw_config_parse(json, "test.json", &cfg), NNCW_OK);
    return cfg;
}
