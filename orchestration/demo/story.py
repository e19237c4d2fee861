"""The story's guaranteed rows: lead-quality plants and the last day's callbacks."""

from __future__ import annotations

import numpy as np

from orchestration.demo.vectors import _cards, _emails, _fmt_sec, _phones, phone_e164
from orchestration.demo.world import BAD_STORES, PLANT_ID, UNKNOWN_PERSON_BASE
from orchestration.demo.writers import _FileWriter, _Raw


class _StorySteps:
    """Steps of the generator (build._Generator) that guarantee the story's rows at any scale."""

    # ------------------------------------------------------------ the story's guaranteed rows

    def _story_leads(self, w: _FileWriter, lead: dict[str, np.ndarray]) -> None:
        """Lead-quality plants: valid for ingestion, flagged by the quality gate later."""
        if not self.plant:
            return
        p = self.plan
        old = lead["created"] <= p.cutoff - 3 * 86400
        items: list[dict] = []
        base = _fmt_sec(p.cutoff - 5 * 86400, "T")

        def row(n: int, **kw: object) -> dict:
            values = {
                "lead_id": f"L{PLANT_ID + n}",
                "created_at": base,
                "channel": "paid_social",
                "campaign": "social_vk_feed",
                "email": None,
                "phone": None,
                "qualified_at": None,
                "disqualified_reason": None,
                "customer_id": None,
            }
            values.update(kw)
            return values

        ghost = UNKNOWN_PERSON_BASE - 1000
        # One or two per channel, so that no channel's invalid share trips the gate at small scale.
        plants = [
            (row(101), "lead_contactable", None),
            (
                row(
                    102,
                    channel="display",
                    campaign="display_prospecting",
                    disqualified_reason="wrong_contact",
                ),
                "lead_contactable",
                None,
            ),
            (
                row(103, channel="paid_search", campaign="search_generic", email="ivan.petrov@"),
                "lead_contactable",
                None,
            ),
            # a mistyped year: in the future for any run within ten years of end_date
            (
                row(
                    104,
                    channel="organic_search",
                    campaign=None,
                    created_at=f"{p.end.year + 10}-01-15T10:00:00",
                    phone=phone_e164(ghost + 4),
                ),
                "created_at_not_future",
                None,
            ),
            (
                row(
                    105,
                    channel="email",
                    campaign="email_weekly",
                    phone=phone_e164(ghost + 5),
                    qualified_at=_fmt_sec(p.cutoff - 7 * 86400, "T"),
                ),
                "qualified_after_created",
                None,
            ),
            (
                row(
                    106,
                    channel="referral",
                    campaign="refer_a_friend",
                    phone=phone_e164(ghost + 6),
                    qualified_at=_fmt_sec(p.cutoff - 4 * 86400, "T"),
                    disqualified_reason="no_budget",
                ),
                "qualified_xor_disqualified",
                None,
            ),
        ]
        with_email = np.flatnonzero(old & (lead["contact"] != 1))
        with_phone = np.flatnonzero(old & (lead["contact"] != 2))
        if len(with_email):
            j = with_email[-1]
            email = _emails(lead["person"][[j]], np.array([2])).to_pylist()[0]
            plants.append(
                (
                    row(107, created_at=_fmt_sec(lead["created"][j] + 2 * 86400, "T"), email=email),
                    "duplicate_lead",
                    f"L{lead['num'][j] + 1:08d}",
                )
            )
        if len(with_phone):
            j = with_phone[-2] if len(with_phone) > 1 else with_phone[-1]
            phone = _phones(lead["person"][[j]], np.array([1])).to_pylist()[0]
            plants.append(
                (
                    row(
                        108,
                        created_at=_fmt_sec(lead["created"][j] + 86400, "T"),
                        phone=phone,
                        channel="display",
                        campaign="display_retargeting",
                    ),
                    "duplicate_lead",
                    f"L{lead['num'][j] + 1:08d}",
                )
            )
        for values, expectation, dup in plants:
            w.add(_Raw(values))
            item = {"lead_id": values["lead_id"], "expectation": expectation}
            if dup:
                item["duplicate_of"] = dup
            items.append(item)
        self.captured["lead_quality"] = items

    def _story_callbacks(self, w: _FileWriter) -> None:
        """Low scores on the last day, one per way of identifying the respondent."""
        p, cm = self.plan, self.cm
        pool = np.arange(min(int(p.cust_start[-1]), 200_000), dtype=np.int64)
        t = p.cutoff - 86400 + 10 * 3600
        found = []
        for mode, flag in (
            ("customer_id", None),
            ("email", cm.has_email),
            ("phone", cm.has_phone),
            ("loyalty_card_id", cm.has_card),
        ):
            cand = pool if flag is None else pool[flag(pool)]
            cand = cand[cm.registered(cand) < t - 86400]
            if not len(cand):
                continue
            i = int(cand[(len(found) * 7919 + self.seed) % len(cand)])
            found.append((mode, i))
        callbacks = []
        for j, (mode, i) in enumerate(found):
            values = {
                "answer_id": f"A{self.next_answer + 1:08d}",
                "answered_at": _fmt_sec(t + j * 1800),
                "survey": "csi" if j % 2 == 0 else "cx",
                "question": "store_visit" if j % 2 == 0 else "queue",
                "score": 1 + j % 2,
                "store_id": BAD_STORES[j % 2],
                "order_id": None,
                "customer_id": None,
                "email": None,
                "phone": None,
                "loyalty_card_id": None,
                "comment": None,
            }
            ii = np.array([i])
            if mode == "customer_id":
                values["customer_id"] = f"C{i + 1:08d}"
                values["comment"] = "Очередь 40 минут, перезвоните мне"
            elif mode == "email":
                values["email"] = _emails(ii, np.array([2])).to_pylist()[0]
            elif mode == "phone":
                values["phone"] = _phones(ii, np.array([1])).to_pylist()[0]
            else:
                values["loyalty_card_id"] = _cards(ii, np.array([1])).to_pylist()[0]
            self.next_answer += 1
            w.add(_Raw(values))
            callbacks.append(
                {
                    "answer_id": values["answer_id"],
                    "identified_by": mode,
                    "customer_id": f"C{i + 1:08d}",
                    "score": values["score"],
                }
            )
        self.captured["callbacks"] = callbacks
