/*
 * fuzz_link.c - the link codec and the gateway's state machine on
 * attacker-chosen radio payloads.
 *
 * The input is a script of frames, each one length byte L and L bytes
 * handed to link_parse and ident_input as one radio payload.  L = 0xff
 * instead makes the harness, as a node that has completed a real
 * handshake, seal a genuine DATA_UP (3 bytes fcnt, 1 byte length, payload),
 * so the fuzzer also reaches the accept, replay and rate paths it could
 * not forge its way into.  L = 0xfe makes it, as the same node, build a
 * genuine version 2 HELLO (4 bytes join counter; the nonce is the
 * counter repeated), so the counter, downgrade and v2 join paths are
 * reached too; forged v2 HELLOs the fuzzer writes itself.  Each frame
 * advances the clock by 700 ms.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <gnutls/gnutls.h>
#include <gnutls/crypto.h>

#include "policy/ident.h"

#include "tests/fuzz/fuzzreg.h"

/* The node side of a handshake; 0 on success. */
static int
handshake(struct ident *id, const struct device *dev,
    struct link_session_keys *ks, struct ident_out *out)
{
	uint8_t nn[LINK_NONCE_LEN], tn[LINK_PROOF_LEN], f[LINK_FRAME_MAX];
	struct link_msg m;
	int n;

	memset(nn, 0x5a, sizeof(nn));
	n = link_build_hello(f, sizeof(f), dev->eui, nn);
	if (ident_input(id, f, (size_t)n, 0, out) != IDENT_OK ||
	    link_parse(out->reply, out->reply_len, &m) != LINK_OK ||
	    link_node_proof(dev->secret, dev->eui, nn, m.nonce, tn) != 0 ||
	    link_session_derive(dev->secret, dev->eui, nn, m.nonce, ks) != 0)
		return -1;
	n = link_build_response(f, sizeof(f), dev->eui, tn);
	if (ident_input(id, f, (size_t)n, 1, out) != IDENT_OK ||
	    link_parse(out->reply, out->reply_len, &m) != LINK_OK)
		return -1;
	ks->sid = m.sid;
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct registry *reg = NULL;
	struct ident *id = NULL;
	struct ident_out *out = NULL;
	struct link_session_keys ks;
	struct link_msg m;
	uint8_t frame[LINK_FRAME_MAX], plain[LINK_FRAME_MAX];
	uint8_t kh[LINK_HELLO_KEY_LEN], nn[LINK_NONCE_LEN];
	uint64_t now = 10;
	char err[128];
	size_t off = 0, n;
	int r;

	if (registry_load_mem("d", fuzzreg_devs, strlen(fuzzreg_devs), "k",
	    fuzzreg_keys, strlen(fuzzreg_keys), &reg, err, sizeof(err)) != 0 ||
	    (id = ident_new(reg)) == NULL ||
	    (out = malloc(sizeof(*out))) == NULL ||
	    handshake(id, registry_at(reg, 0), &ks, out) != 0)
		abort();
	ident_set_rate(id, 600, 5);
	if (link_hello_key(registry_at(reg, 0)->secret,
	    registry_at(reg, 0)->eui, kh) != 0)
		abort();
	while (off < size) {
		n = data[off++];
		if (n == 0xfe) {
			uint32_t jc;
			size_t i;

			if (size - off < 4)
				break;
			jc = (uint32_t)data[off] << 24 |
			    (uint32_t)data[off + 1] << 16 |
			    (uint32_t)data[off + 2] << 8 | data[off + 3];
			off += 4;
			for (i = 0; i < sizeof(nn); i++)
				nn[i] = data[off - 4 + i % 4];
			r = link_build_hello2(frame, sizeof(frame),
			    registry_at(reg, 0)->eui, nn, jc, kh);
			if (r < 0)
				abort();
			n = (size_t)r;
		} else if (n == 0xff) {
			uint32_t fcnt;

			if (size - off < 4)
				break;
			fcnt = (uint32_t)data[off] << 16 |
			    (uint32_t)data[off + 1] << 8 | data[off + 2];
			n = data[off + 3];
			off += 4;
			if (n > size - off)
				n = size - off;
			r = link_seal(&ks, LINK_DIR_UP, fcnt, data + off, n,
			    frame, sizeof(frame));
			off += n;
			if (r < 0)
				continue;
			n = (size_t)r;
		} else {
			if (n > size - off)
				n = size - off;
			memcpy(frame, data + off, n);
			off += n;
		}
		/* The codec alone, with the session's keys... */
		if (link_parse(frame, n, &m) == LINK_OK &&
		    m.version == LINK_VERSION_2 &&
		    link_hello_verify(kh, &m) == LINK_OK &&
		    m.eui != registry_at(reg, 0)->eui)
			abort();	/* Kh is the EUI's own */
		if (link_parse(frame, n, &m) == LINK_OK &&
		    (m.type == LINK_DATA_UP || m.type == LINK_DATA_DOWN)) {
			r = link_open(&ks, m.type == LINK_DATA_UP ?
			    LINK_DIR_UP : LINK_DIR_DOWN, &m, plain,
			    sizeof(plain));
			if (r > (int)m.ct_len)
				abort();
		}
		/* ...and the gateway behind it. */
		r = ident_input(id, frame, n, now, out);
		if (r > 0 || r < -(IDENT_VERDICT_COUNT - 1))
			abort();
		if (out->payload_len > sizeof(out->payload) ||
		    out->reply_len > sizeof(out->reply))
			abort();
		if (r == IDENT_OK && out->action == IDENT_NONE)
			abort();
		now += 700;
		if (now % 7 == 0)
			(void)ident_downlink(id, 0x70B3D57ED0001001ULL, data,
			    size < 40 ? size : 40, out);
	}
	gnutls_memset(&ks, 0, sizeof(ks));
	gnutls_memset(kh, 0, sizeof(kh));
	free(out);
	ident_free(id);
	registry_free(reg);
	return 0;
}
