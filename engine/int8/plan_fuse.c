/*
** Residual Adds fused into the convolution before them. A ResNet block ends in
** conv -> bn -> quantizer -> Add (+ the block's input) -> Relu -> quantizer; as separate steps
** the Add reads the conv's codes back from memory in a pass of its own (5-6 % of ResNet-18's
** int8 time at 32x32). Fused, the GEMM's epilogue quantizes the product as before, then adds
** the residual's dequantized code, clamps and quantizes again: the same arithmetic as the Add
** step, so the codes are the same (up to the float rounding of the folded requantization, as
** for every GEMM epilogue), and the conv's own codes never reach memory.
**
** The conv's output must be read by the Add alone (no float reader, not a graph output), and
** the residual must already exist when the conv runs: its step comes earlier in the plan.
*/
#include "int8/plan_internal.h"

/* the index of the live step writing value v, or -1 */
static int producer(const struct nncw_int8_plan *p, int v)
{
    for (int i = 0; i < p->n_steps; i++)
        if (p->steps[i].live && p->steps[i].out == v)
            return i;
    return -1;
}

void nncw_i8_plan_fuse_residuals(struct nncw_int8_plan *p)
{
    for (int i = 0; i < p->n_steps; i++) {
        struct i8_step *add = &p->steps[i];
        if (!add->live || add->kind != I8_STEP_ADD || !add->out_u8 || !add->quant ||
            add->in[0] == add->in[1])
            continue;
        for (int k = 0; k < 2; k++) {
            int v = add->in[k], r = add->in[1 - k];
            int g = producer(p, v), rp = producer(p, r);
            if (g < 0 || p->steps[g].kind != I8_STEP_GEMM ||
                !nncw_i8_gemm_fusable_residual(&p->steps[g]) || p->consumers[v] != 1 ||
                p->is_output[v] || p->val[v].need_f32 || rp < 0 || rp >= g)
                continue;
            nncw_i8_gemm_fuse_residual(p, &p->steps[g], add, r);
            break;
        }
    }
}
