WITH "chs_keyed" AS MATERIALIZED (
  SELECT
    "customer_id",
    "mrr",
    "logins_month",
    "premium_adoption_pct",
    "critical_tickets_q",
    "nps",
    "usage_growth_yoy_pct",
    NULLIF(TRIM(CAST("customer_id" AS VARCHAR)), '') AS "chs_key"
  FROM "crm"."customers"
), "chs_input" AS MATERIALIZED (
  SELECT
    "chs_keyed".*,
    COUNT(*) OVER (PARTITION BY "chs_key") AS "chs_repeats"
  FROM "chs_keyed"
), "chs_stage2" AS MATERIALIZED (
  SELECT
    "chs_input".*,
    CAST("logins_month" AS DOUBLE PRECISION) AS "chs_v_logins",
    CAST("premium_adoption_pct" AS DOUBLE PRECISION) AS "chs_v_premium_adoption",
    CAST("critical_tickets_q" AS DOUBLE PRECISION) AS "chs_v_critical_tickets",
    CAST("nps" AS DOUBLE PRECISION) AS "chs_v_nps",
    CAST("usage_growth_yoy_pct" AS DOUBLE PRECISION) AS "chs_v_usage_growth"
  FROM "chs_input"
), "chs_stage3" AS MATERIALIZED (
  SELECT
    "chs_stage2".*,
    CASE
      WHEN "chs_v_logins" >= CAST(40.0 AS DOUBLE PRECISION)
      THEN CAST(100.0 AS DOUBLE PRECISION)
      WHEN "chs_v_logins" >= CAST(10.0 AS DOUBLE PRECISION)
      THEN CAST(50.0 AS DOUBLE PRECISION)
      WHEN NOT "chs_v_logins" IS NULL
      THEN CAST(0.0 AS DOUBLE PRECISION)
      ELSE CAST(NULL AS DOUBLE PRECISION)
    END AS "chs_p_logins",
    CASE
      WHEN "chs_v_premium_adoption" > CAST(70.0 AS DOUBLE PRECISION)
      THEN CAST(100.0 AS DOUBLE PRECISION)
      WHEN "chs_v_premium_adoption" >= CAST(30.0 AS DOUBLE PRECISION)
      THEN CAST(50.0 AS DOUBLE PRECISION)
      WHEN NOT "chs_v_premium_adoption" IS NULL
      THEN CAST(0.0 AS DOUBLE PRECISION)
      ELSE CAST(NULL AS DOUBLE PRECISION)
    END AS "chs_p_premium_adoption",
    CASE
      WHEN "chs_v_critical_tickets" <= CAST(1.0 AS DOUBLE PRECISION)
      THEN CAST(100.0 AS DOUBLE PRECISION)
      WHEN "chs_v_critical_tickets" <= CAST(4.0 AS DOUBLE PRECISION)
      THEN CAST(50.0 AS DOUBLE PRECISION)
      WHEN NOT "chs_v_critical_tickets" IS NULL
      THEN CAST(0.0 AS DOUBLE PRECISION)
      ELSE CAST(NULL AS DOUBLE PRECISION)
    END AS "chs_p_critical_tickets",
    CASE
      WHEN "chs_v_nps" > CAST(30.0 AS DOUBLE PRECISION)
      THEN CAST(100.0 AS DOUBLE PRECISION)
      WHEN "chs_v_nps" >= CAST(0.0 AS DOUBLE PRECISION)
      THEN CAST(50.0 AS DOUBLE PRECISION)
      WHEN NOT "chs_v_nps" IS NULL
      THEN CAST(0.0 AS DOUBLE PRECISION)
      ELSE CAST(NULL AS DOUBLE PRECISION)
    END AS "chs_p_nps",
    CASE
      WHEN "chs_v_usage_growth" >= CAST(20.0 AS DOUBLE PRECISION)
      THEN CAST(100.0 AS DOUBLE PRECISION)
      WHEN "chs_v_usage_growth" >= CAST(0.0 AS DOUBLE PRECISION)
      THEN CAST(50.0 AS DOUBLE PRECISION)
      WHEN NOT "chs_v_usage_growth" IS NULL
      THEN CAST(0.0 AS DOUBLE PRECISION)
      ELSE CAST(NULL AS DOUBLE PRECISION)
    END AS "chs_p_usage_growth"
  FROM "chs_stage2"
), "chs_stage4" AS MATERIALIZED (
  SELECT
    "chs_stage3".*,
    (
      (
        (
          (
            (
              CASE
                WHEN NOT "chs_p_logins" IS NULL
                THEN (
                  (
                    "chs_p_logins"
                  ) * (
                    CAST(30.0 AS DOUBLE PRECISION)
                  )
                )
                ELSE CAST(0.0 AS DOUBLE PRECISION)
              END
            ) + (
              CASE
                WHEN NOT "chs_p_premium_adoption" IS NULL
                THEN (
                  (
                    "chs_p_premium_adoption"
                  ) * (
                    CAST(25.0 AS DOUBLE PRECISION)
                  )
                )
                ELSE CAST(0.0 AS DOUBLE PRECISION)
              END
            )
          ) + (
            CASE
              WHEN NOT "chs_p_critical_tickets" IS NULL
              THEN (
                (
                  "chs_p_critical_tickets"
                ) * (
                  CAST(20.0 AS DOUBLE PRECISION)
                )
              )
              ELSE CAST(0.0 AS DOUBLE PRECISION)
            END
          )
        ) + (
          CASE
            WHEN NOT "chs_p_nps" IS NULL
            THEN (
              (
                "chs_p_nps"
              ) * (
                CAST(15.0 AS DOUBLE PRECISION)
              )
            )
            ELSE CAST(0.0 AS DOUBLE PRECISION)
          END
        )
      ) + (
        CASE
          WHEN NOT "chs_p_usage_growth" IS NULL
          THEN (
            (
              "chs_p_usage_growth"
            ) * (
              CAST(10.0 AS DOUBLE PRECISION)
            )
          )
          ELSE CAST(0.0 AS DOUBLE PRECISION)
        END
      )
    ) AS "chs_num_",
    (
      (
        (
          (
            (
              CASE
                WHEN NOT "chs_p_logins" IS NULL
                THEN CAST(30.0 AS DOUBLE PRECISION)
                ELSE CAST(0.0 AS DOUBLE PRECISION)
              END
            ) + (
              CASE
                WHEN NOT "chs_p_premium_adoption" IS NULL
                THEN CAST(25.0 AS DOUBLE PRECISION)
                ELSE CAST(0.0 AS DOUBLE PRECISION)
              END
            )
          ) + (
            CASE
              WHEN NOT "chs_p_critical_tickets" IS NULL
              THEN CAST(20.0 AS DOUBLE PRECISION)
              ELSE CAST(0.0 AS DOUBLE PRECISION)
            END
          )
        ) + (
          CASE
            WHEN NOT "chs_p_nps" IS NULL
            THEN CAST(15.0 AS DOUBLE PRECISION)
            ELSE CAST(0.0 AS DOUBLE PRECISION)
          END
        )
      ) + (
        CASE
          WHEN NOT "chs_p_usage_growth" IS NULL
          THEN CAST(10.0 AS DOUBLE PRECISION)
          ELSE CAST(0.0 AS DOUBLE PRECISION)
        END
      )
    ) AS "chs_den_"
  FROM "chs_stage3"
), "chs_stage5" AS MATERIALIZED (
  SELECT
    "chs_stage4".*,
    CASE
      WHEN "chs_den_" > CAST(0.0 AS DOUBLE PRECISION)
      THEN (
        CAST((
          CAST("chs_num_" AS DOUBLE PRECISION)
        ) AS DOUBLE PRECISION) / (
          CAST("chs_den_" AS DOUBLE PRECISION)
        )
      )
    END AS "chs_score_"
  FROM "chs_stage4"
), "chs_stage6" AS MATERIALIZED (
  SELECT
    "chs_stage5".*,
    (
      (
        CASE
          WHEN NOT "chs_p_logins" IS NULL
          THEN (
            CAST((
              CAST(30.0 AS DOUBLE PRECISION)
            ) AS DOUBLE PRECISION) / (
              CAST("chs_den_" AS DOUBLE PRECISION)
            )
          )
          ELSE CAST(0.0 AS DOUBLE PRECISION)
        END
      ) * (
        (
          (
            CAST(100.0 AS DOUBLE PRECISION)
          ) - (
            COALESCE("chs_p_logins", CAST(100.0 AS DOUBLE PRECISION))
          )
        )
      )
    ) AS "chs_loss_logins",
    (
      (
        CASE
          WHEN NOT "chs_p_premium_adoption" IS NULL
          THEN (
            CAST((
              CAST(25.0 AS DOUBLE PRECISION)
            ) AS DOUBLE PRECISION) / (
              CAST("chs_den_" AS DOUBLE PRECISION)
            )
          )
          ELSE CAST(0.0 AS DOUBLE PRECISION)
        END
      ) * (
        (
          (
            CAST(100.0 AS DOUBLE PRECISION)
          ) - (
            COALESCE("chs_p_premium_adoption", CAST(100.0 AS DOUBLE PRECISION))
          )
        )
      )
    ) AS "chs_loss_premium_adoption",
    (
      (
        CASE
          WHEN NOT "chs_p_critical_tickets" IS NULL
          THEN (
            CAST((
              CAST(20.0 AS DOUBLE PRECISION)
            ) AS DOUBLE PRECISION) / (
              CAST("chs_den_" AS DOUBLE PRECISION)
            )
          )
          ELSE CAST(0.0 AS DOUBLE PRECISION)
        END
      ) * (
        (
          (
            CAST(100.0 AS DOUBLE PRECISION)
          ) - (
            COALESCE("chs_p_critical_tickets", CAST(100.0 AS DOUBLE PRECISION))
          )
        )
      )
    ) AS "chs_loss_critical_tickets",
    (
      (
        CASE
          WHEN NOT "chs_p_nps" IS NULL
          THEN (
            CAST((
              CAST(15.0 AS DOUBLE PRECISION)
            ) AS DOUBLE PRECISION) / (
              CAST("chs_den_" AS DOUBLE PRECISION)
            )
          )
          ELSE CAST(0.0 AS DOUBLE PRECISION)
        END
      ) * (
        (
          (
            CAST(100.0 AS DOUBLE PRECISION)
          ) - (
            COALESCE("chs_p_nps", CAST(100.0 AS DOUBLE PRECISION))
          )
        )
      )
    ) AS "chs_loss_nps",
    (
      (
        CASE
          WHEN NOT "chs_p_usage_growth" IS NULL
          THEN (
            CAST((
              CAST(10.0 AS DOUBLE PRECISION)
            ) AS DOUBLE PRECISION) / (
              CAST("chs_den_" AS DOUBLE PRECISION)
            )
          )
          ELSE CAST(0.0 AS DOUBLE PRECISION)
        END
      ) * (
        (
          (
            CAST(100.0 AS DOUBLE PRECISION)
          ) - (
            COALESCE("chs_p_usage_growth", CAST(100.0 AS DOUBLE PRECISION))
          )
        )
      )
    ) AS "chs_loss_usage_growth"
  FROM "chs_stage5"
), "chs_stage7" AS MATERIALIZED (
  SELECT
    "chs_stage6".*,
    (
      (
        "chs_score_"
      ) * (
        CAST(10.0 AS DOUBLE PRECISION)
      )
    ) AS "chs_ss_",
    (
      (
        (
          (
            (
              CASE
                WHEN NOT "chs_v_logins" IS NULL
                THEN CAST(0.3 AS DOUBLE PRECISION)
                ELSE CAST(0.0 AS DOUBLE PRECISION)
              END
            ) + (
              CASE
                WHEN NOT "chs_v_premium_adoption" IS NULL
                THEN CAST(0.25 AS DOUBLE PRECISION)
                ELSE CAST(0.0 AS DOUBLE PRECISION)
              END
            )
          ) + (
            CASE
              WHEN NOT "chs_v_critical_tickets" IS NULL
              THEN CAST(0.2 AS DOUBLE PRECISION)
              ELSE CAST(0.0 AS DOUBLE PRECISION)
            END
          )
        ) + (
          CASE
            WHEN NOT "chs_v_nps" IS NULL
            THEN CAST(0.15 AS DOUBLE PRECISION)
            ELSE CAST(0.0 AS DOUBLE PRECISION)
          END
        )
      ) + (
        CASE
          WHEN NOT "chs_v_usage_growth" IS NULL
          THEN CAST(0.1 AS DOUBLE PRECISION)
          ELSE CAST(0.0 AS DOUBLE PRECISION)
        END
      )
    ) AS "chs_cov_"
  FROM "chs_stage6"
), "chs_stage8" AS MATERIALIZED (
  SELECT
    "chs_stage7".*,
    (
      CAST((
        CAST((
          (
            SIGN("chs_ss_")
          ) * (
            (
              (
                FLOOR((
                  (
                    CAST(2.0 AS DOUBLE PRECISION)
                  ) * (
                    ABS("chs_ss_")
                  )
                ))
              ) - (
                FLOOR(ABS("chs_ss_"))
              )
            )
          )
        ) AS DOUBLE PRECISION)
      ) AS DOUBLE PRECISION) / (
        CAST(10.0 AS DOUBLE PRECISION)
      )
    ) AS "chs_sr_",
    (
      (
        "chs_cov_"
      ) * (
        CAST(1000.0 AS DOUBLE PRECISION)
      )
    ) AS "chs_cs_"
  FROM "chs_stage7"
), "chs_stage9" AS MATERIALIZED (
  SELECT
    "chs_stage8".*,
    (
      (
        GREATEST(
          LEAST(
            COALESCE("chs_loss_logins", CAST(0.0 AS DOUBLE PRECISION)),
            CAST(100.0 AS DOUBLE PRECISION)
          ),
          CAST(0.0 AS DOUBLE PRECISION)
        )
      ) * (
        CAST(1000000.0 AS DOUBLE PRECISION)
      )
    ) AS "chs_lm_0",
    (
      (
        GREATEST(
          LEAST(
            COALESCE("chs_loss_premium_adoption", CAST(0.0 AS DOUBLE PRECISION)),
            CAST(100.0 AS DOUBLE PRECISION)
          ),
          CAST(0.0 AS DOUBLE PRECISION)
        )
      ) * (
        CAST(1000000.0 AS DOUBLE PRECISION)
      )
    ) AS "chs_lm_1",
    (
      (
        GREATEST(
          LEAST(
            COALESCE("chs_loss_critical_tickets", CAST(0.0 AS DOUBLE PRECISION)),
            CAST(100.0 AS DOUBLE PRECISION)
          ),
          CAST(0.0 AS DOUBLE PRECISION)
        )
      ) * (
        CAST(1000000.0 AS DOUBLE PRECISION)
      )
    ) AS "chs_lm_2",
    (
      (
        GREATEST(
          LEAST(
            COALESCE("chs_loss_nps", CAST(0.0 AS DOUBLE PRECISION)),
            CAST(100.0 AS DOUBLE PRECISION)
          ),
          CAST(0.0 AS DOUBLE PRECISION)
        )
      ) * (
        CAST(1000000.0 AS DOUBLE PRECISION)
      )
    ) AS "chs_lm_3",
    (
      (
        GREATEST(
          LEAST(
            COALESCE("chs_loss_usage_growth", CAST(0.0 AS DOUBLE PRECISION)),
            CAST(100.0 AS DOUBLE PRECISION)
          ),
          CAST(0.0 AS DOUBLE PRECISION)
        )
      ) * (
        CAST(1000000.0 AS DOUBLE PRECISION)
      )
    ) AS "chs_lm_4"
  FROM "chs_stage8"
), "chs_stage10" AS MATERIALIZED (
  SELECT
    "chs_stage9".*,
    (
      (
        (
          (
            CAST((
              (
                FLOOR((
                  (
                    CAST(2.0 AS DOUBLE PRECISION)
                  ) * (
                    "chs_lm_0"
                  )
                ))
              ) - (
                FLOOR("chs_lm_0")
              )
            ) AS BIGINT)
          ) * (
            CAST(10 AS BIGINT)
          )
        )
      ) + (
        CAST(8 AS BIGINT)
      )
    ) AS "chs_code_0",
    (
      (
        (
          (
            CAST((
              (
                FLOOR((
                  (
                    CAST(2.0 AS DOUBLE PRECISION)
                  ) * (
                    "chs_lm_1"
                  )
                ))
              ) - (
                FLOOR("chs_lm_1")
              )
            ) AS BIGINT)
          ) * (
            CAST(10 AS BIGINT)
          )
        )
      ) + (
        CAST(6 AS BIGINT)
      )
    ) AS "chs_code_1",
    (
      (
        (
          (
            CAST((
              (
                FLOOR((
                  (
                    CAST(2.0 AS DOUBLE PRECISION)
                  ) * (
                    "chs_lm_2"
                  )
                ))
              ) - (
                FLOOR("chs_lm_2")
              )
            ) AS BIGINT)
          ) * (
            CAST(10 AS BIGINT)
          )
        )
      ) + (
        CAST(4 AS BIGINT)
      )
    ) AS "chs_code_2",
    (
      (
        (
          (
            CAST((
              (
                FLOOR((
                  (
                    CAST(2.0 AS DOUBLE PRECISION)
                  ) * (
                    "chs_lm_3"
                  )
                ))
              ) - (
                FLOOR("chs_lm_3")
              )
            ) AS BIGINT)
          ) * (
            CAST(10 AS BIGINT)
          )
        )
      ) + (
        CAST(2 AS BIGINT)
      )
    ) AS "chs_code_3",
    (
      (
        (
          (
            CAST((
              (
                FLOOR((
                  (
                    CAST(2.0 AS DOUBLE PRECISION)
                  ) * (
                    "chs_lm_4"
                  )
                ))
              ) - (
                FLOOR("chs_lm_4")
              )
            ) AS BIGINT)
          ) * (
            CAST(10 AS BIGINT)
          )
        )
      ) + (
        CAST(0 AS BIGINT)
      )
    ) AS "chs_code_4"
  FROM "chs_stage9"
), "chs_stage11" AS MATERIALIZED (
  SELECT
    "chs_stage10".*,
    NULLIF(
      GREATEST(
        COALESCE("chs_code_0", CAST(-1 AS BIGINT)),
        COALESCE("chs_code_1", CAST(-1 AS BIGINT)),
        COALESCE("chs_code_2", CAST(-1 AS BIGINT)),
        COALESCE("chs_code_3", CAST(-1 AS BIGINT)),
        COALESCE("chs_code_4", CAST(-1 AS BIGINT))
      ),
      CAST(-1 AS BIGINT)
    ) AS "chs_top_0"
  FROM "chs_stage10"
), "chs_stage12" AS MATERIALIZED (
  SELECT
    "chs_stage11".*,
    NULLIF(
      GREATEST(
        COALESCE(CASE WHEN "chs_code_0" < "chs_top_0" THEN "chs_code_0" END, CAST(-1 AS BIGINT)),
        COALESCE(CASE WHEN "chs_code_1" < "chs_top_0" THEN "chs_code_1" END, CAST(-1 AS BIGINT)),
        COALESCE(CASE WHEN "chs_code_2" < "chs_top_0" THEN "chs_code_2" END, CAST(-1 AS BIGINT)),
        COALESCE(CASE WHEN "chs_code_3" < "chs_top_0" THEN "chs_code_3" END, CAST(-1 AS BIGINT)),
        COALESCE(CASE WHEN "chs_code_4" < "chs_top_0" THEN "chs_code_4" END, CAST(-1 AS BIGINT))
      ),
      CAST(-1 AS BIGINT)
    ) AS "chs_top_1"
  FROM "chs_stage11"
), "chs_stage13" AS MATERIALIZED (
  SELECT
    "chs_stage12".*,
    NULLIF(
      GREATEST(
        COALESCE(CASE WHEN "chs_code_0" < "chs_top_1" THEN "chs_code_0" END, CAST(-1 AS BIGINT)),
        COALESCE(CASE WHEN "chs_code_1" < "chs_top_1" THEN "chs_code_1" END, CAST(-1 AS BIGINT)),
        COALESCE(CASE WHEN "chs_code_2" < "chs_top_1" THEN "chs_code_2" END, CAST(-1 AS BIGINT)),
        COALESCE(CASE WHEN "chs_code_3" < "chs_top_1" THEN "chs_code_3" END, CAST(-1 AS BIGINT)),
        COALESCE(CASE WHEN "chs_code_4" < "chs_top_1" THEN "chs_code_4" END, CAST(-1 AS BIGINT))
      ),
      CAST(-1 AS BIGINT)
    ) AS "chs_top_2"
  FROM "chs_stage12"
), "chs_stage14" AS MATERIALIZED (
  SELECT
    "chs_stage13".*,
    FLOOR(
      (
        CAST((
          CAST("chs_top_0" AS DOUBLE PRECISION)
        ) AS DOUBLE PRECISION) / (
          CAST(10.0 AS DOUBLE PRECISION)
        )
      )
    ) AS "chs_q_0",
    FLOOR(
      (
        CAST((
          CAST("chs_top_1" AS DOUBLE PRECISION)
        ) AS DOUBLE PRECISION) / (
          CAST(10.0 AS DOUBLE PRECISION)
        )
      )
    ) AS "chs_q_1",
    FLOOR(
      (
        CAST((
          CAST("chs_top_2" AS DOUBLE PRECISION)
        ) AS DOUBLE PRECISION) / (
          CAST(10.0 AS DOUBLE PRECISION)
        )
      )
    ) AS "chs_q_2"
  FROM "chs_stage13"
), "chs_stage15" AS MATERIALIZED (
  SELECT
    "chs_stage14".*,
    (
      (
        "chs_top_0"
      ) - (
        (
          (
            "chs_q_0"
          ) * (
            CAST(10.0 AS DOUBLE PRECISION)
          )
        )
      )
    ) AS "chs_rest_0",
    FLOOR(
      (
        CAST((
          CAST((
            (
              "chs_q_0"
            ) + (
              CAST(50000.0 AS DOUBLE PRECISION)
            )
          ) AS DOUBLE PRECISION)
        ) AS DOUBLE PRECISION) / (
          CAST(100000.0 AS DOUBLE PRECISION)
        )
      )
    ) AS "chs_tenths_0",
    (
      (
        "chs_top_1"
      ) - (
        (
          (
            "chs_q_1"
          ) * (
            CAST(10.0 AS DOUBLE PRECISION)
          )
        )
      )
    ) AS "chs_rest_1",
    FLOOR(
      (
        CAST((
          CAST((
            (
              "chs_q_1"
            ) + (
              CAST(50000.0 AS DOUBLE PRECISION)
            )
          ) AS DOUBLE PRECISION)
        ) AS DOUBLE PRECISION) / (
          CAST(100000.0 AS DOUBLE PRECISION)
        )
      )
    ) AS "chs_tenths_1",
    (
      (
        "chs_top_2"
      ) - (
        (
          (
            "chs_q_2"
          ) * (
            CAST(10.0 AS DOUBLE PRECISION)
          )
        )
      )
    ) AS "chs_rest_2",
    FLOOR(
      (
        CAST((
          CAST((
            (
              "chs_q_2"
            ) + (
              CAST(50000.0 AS DOUBLE PRECISION)
            )
          ) AS DOUBLE PRECISION)
        ) AS DOUBLE PRECISION) / (
          CAST(100000.0 AS DOUBLE PRECISION)
        )
      )
    ) AS "chs_tenths_2"
  FROM "chs_stage14"
), "chs_stage16" AS MATERIALIZED (
  SELECT
    "chs_stage15".*,
    (
      (
        CAST(4.0 AS DOUBLE PRECISION)
      ) - (
        FLOOR(
          (
            CAST((
              CAST("chs_rest_0" AS DOUBLE PRECISION)
            ) AS DOUBLE PRECISION) / (
              CAST(2.0 AS DOUBLE PRECISION)
            )
          )
        )
      )
    ) AS "chs_index_0",
    (
      (
        CAST(4.0 AS DOUBLE PRECISION)
      ) - (
        FLOOR(
          (
            CAST((
              CAST("chs_rest_1" AS DOUBLE PRECISION)
            ) AS DOUBLE PRECISION) / (
              CAST(2.0 AS DOUBLE PRECISION)
            )
          )
        )
      )
    ) AS "chs_index_1",
    (
      (
        CAST(4.0 AS DOUBLE PRECISION)
      ) - (
        FLOOR(
          (
            CAST((
              CAST("chs_rest_2" AS DOUBLE PRECISION)
            ) AS DOUBLE PRECISION) / (
              CAST(2.0 AS DOUBLE PRECISION)
            )
          )
        )
      )
    ) AS "chs_index_2"
  FROM "chs_stage15"
), "chs_scored" AS MATERIALIZED (
  SELECT
    "customer_id" AS "customer_id",
    "mrr" AS "mrr",
    "logins_month" AS "logins_month",
    "premium_adoption_pct" AS "premium_adoption_pct",
    "critical_tickets_q" AS "critical_tickets_q",
    "nps" AS "nps",
    "usage_growth_yoy_pct" AS "usage_growth_yoy_pct",
    CAST("chs_p_logins" AS SMALLINT) AS "points_logins",
    CAST("chs_p_premium_adoption" AS SMALLINT) AS "points_premium_adoption",
    CAST("chs_p_critical_tickets" AS SMALLINT) AS "points_critical_tickets",
    CAST("chs_p_nps" AS SMALLINT) AS "points_nps",
    CAST("chs_p_usage_growth" AS SMALLINT) AS "points_usage_growth",
    "chs_sr_" AS "score",
    CASE
      WHEN "chs_sr_" > CAST(70.0 AS DOUBLE PRECISION)
      THEN 'green'
      WHEN "chs_sr_" >= CAST(50.0 AS DOUBLE PRECISION)
      THEN 'orange'
      WHEN "chs_sr_" >= CAST(0.0 AS DOUBLE PRECISION)
      THEN 'red'
    END AS "band",
    (
      CAST((
        CAST(CASE
          WHEN "chs_cs_" < CAST(0.0 AS DOUBLE PRECISION)
          THEN -(
            CASE
              WHEN (
                (
                  ABS("chs_cs_")
                ) - (
                  FLOOR(ABS("chs_cs_"))
                )
              ) > CAST(0.5 AS DOUBLE PRECISION)
              THEN (
                (
                  FLOOR(ABS("chs_cs_"))
                ) + (
                  CAST(1.0 AS DOUBLE PRECISION)
                )
              )
              WHEN (
                (
                  ABS("chs_cs_")
                ) - (
                  FLOOR(ABS("chs_cs_"))
                )
              ) < CAST(0.5 AS DOUBLE PRECISION)
              THEN FLOOR(ABS("chs_cs_"))
              WHEN (
                (
                  FLOOR(ABS("chs_cs_"))
                ) - (
                  (
                    (
                      CAST(2.0 AS DOUBLE PRECISION)
                    ) * (
                      FLOOR(
                        (
                          CAST((
                            CAST(FLOOR(ABS("chs_cs_")) AS DOUBLE PRECISION)
                          ) AS DOUBLE PRECISION) / (
                            CAST(2.0 AS DOUBLE PRECISION)
                          )
                        )
                      )
                    )
                  )
                )
              ) = CAST(1.0 AS DOUBLE PRECISION)
              THEN (
                (
                  FLOOR(ABS("chs_cs_"))
                ) + (
                  CAST(1.0 AS DOUBLE PRECISION)
                )
              )
              ELSE FLOOR(ABS("chs_cs_"))
            END
          )
          ELSE CASE
            WHEN (
              (
                ABS("chs_cs_")
              ) - (
                FLOOR(ABS("chs_cs_"))
              )
            ) > CAST(0.5 AS DOUBLE PRECISION)
            THEN (
              (
                FLOOR(ABS("chs_cs_"))
              ) + (
                CAST(1.0 AS DOUBLE PRECISION)
              )
            )
            WHEN (
              (
                ABS("chs_cs_")
              ) - (
                FLOOR(ABS("chs_cs_"))
              )
            ) < CAST(0.5 AS DOUBLE PRECISION)
            THEN FLOOR(ABS("chs_cs_"))
            WHEN (
              (
                FLOOR(ABS("chs_cs_"))
              ) - (
                (
                  (
                    CAST(2.0 AS DOUBLE PRECISION)
                  ) * (
                    FLOOR(
                      (
                        CAST((
                          CAST(FLOOR(ABS("chs_cs_")) AS DOUBLE PRECISION)
                        ) AS DOUBLE PRECISION) / (
                          CAST(2.0 AS DOUBLE PRECISION)
                        )
                      )
                    )
                  )
                )
              )
            ) = CAST(1.0 AS DOUBLE PRECISION)
            THEN (
              (
                FLOOR(ABS("chs_cs_"))
              ) + (
                CAST(1.0 AS DOUBLE PRECISION)
              )
            )
            ELSE FLOOR(ABS("chs_cs_"))
          END
        END AS DOUBLE PRECISION)
      ) AS DOUBLE PRECISION) / (
        CAST(1000.0 AS DOUBLE PRECISION)
      )
    ) AS "coverage",
    (
      COALESCE(
        CASE
          WHEN "chs_top_0" >= CAST(500000 AS BIGINT)
          THEN (
            CASE
              WHEN "chs_index_0" = CAST(0.0 AS DOUBLE PRECISION)
              THEN 'logins'
              WHEN "chs_index_0" = CAST(1.0 AS DOUBLE PRECISION)
              THEN 'premium_adoption'
              WHEN "chs_index_0" = CAST(2.0 AS DOUBLE PRECISION)
              THEN 'critical_tickets'
              WHEN "chs_index_0" = CAST(3.0 AS DOUBLE PRECISION)
              THEN 'nps'
              WHEN "chs_index_0" = CAST(4.0 AS DOUBLE PRECISION)
              THEN 'usage_growth'
            END || ' -' || CAST((
              CAST("chs_tenths_0" AS DECIMAL(5, 0)) * CAST(0.1 AS DECIMAL(2, 1))
            ) AS VARCHAR)
          )
        END,
        ''
      ) || COALESCE(
        (
          '; ' || CASE
            WHEN "chs_top_1" >= CAST(500000 AS BIGINT)
            THEN (
              CASE
                WHEN "chs_index_1" = CAST(0.0 AS DOUBLE PRECISION)
                THEN 'logins'
                WHEN "chs_index_1" = CAST(1.0 AS DOUBLE PRECISION)
                THEN 'premium_adoption'
                WHEN "chs_index_1" = CAST(2.0 AS DOUBLE PRECISION)
                THEN 'critical_tickets'
                WHEN "chs_index_1" = CAST(3.0 AS DOUBLE PRECISION)
                THEN 'nps'
                WHEN "chs_index_1" = CAST(4.0 AS DOUBLE PRECISION)
                THEN 'usage_growth'
              END || ' -' || CAST((
                CAST("chs_tenths_1" AS DECIMAL(5, 0)) * CAST(0.1 AS DECIMAL(2, 1))
              ) AS VARCHAR)
            )
          END
        ),
        ''
      ) || COALESCE(
        (
          '; ' || CASE
            WHEN "chs_top_2" >= CAST(500000 AS BIGINT)
            THEN (
              CASE
                WHEN "chs_index_2" = CAST(0.0 AS DOUBLE PRECISION)
                THEN 'logins'
                WHEN "chs_index_2" = CAST(1.0 AS DOUBLE PRECISION)
                THEN 'premium_adoption'
                WHEN "chs_index_2" = CAST(2.0 AS DOUBLE PRECISION)
                THEN 'critical_tickets'
                WHEN "chs_index_2" = CAST(3.0 AS DOUBLE PRECISION)
                THEN 'nps'
                WHEN "chs_index_2" = CAST(4.0 AS DOUBLE PRECISION)
                THEN 'usage_growth'
              END || ' -' || CAST((
                CAST("chs_tenths_2" AS DECIMAL(5, 0)) * CAST(0.1 AS DECIMAL(2, 1))
              ) AS VARCHAR)
            )
          END
        ),
        ''
      )
    ) AS "reasons",
    'saas' AS "scheme",
    '80a2a95c611b' AS "scheme_hash",
    CAST('2026-11-30' AS DATE) AS "as_of"
  FROM "chs_stage16"
  WHERE
    NOT (
      (
        (
          FALSE
        ) OR COALESCE((
          "chs_key" IS NULL
        ), FALSE)
      )
      OR COALESCE((
        NOT "chs_key" IS NULL AND "chs_repeats" > CAST(1 AS BIGINT)
      ), FALSE)
    )
    AND NOT "chs_score_" IS NULL
)
SELECT
  "customer_id",
  "mrr",
  "logins_month",
  "premium_adoption_pct",
  "critical_tickets_q",
  "nps",
  "usage_growth_yoy_pct",
  "points_logins",
  "points_premium_adoption",
  "points_critical_tickets",
  "points_nps",
  "points_usage_growth",
  "score",
  "band",
  "coverage",
  "reasons",
  "scheme",
  "scheme_hash",
  "as_of",
  CASE
    WHEN (
      CASE
        WHEN COALESCE((
          (
            (
              "score"
            ) < (
              CAST(40 AS BIGINT)
            )
          )
        ), FALSE)
        THEN '; urgent_call'
        ELSE ''
      END || CASE
        WHEN COALESCE(
          (
            (
              (
                (
                  (
                    "score"
                  ) >= (
                    CAST(40 AS BIGINT)
                  )
                )
              )
              AND (
                (
                  (
                    "score"
                  ) < (
                    CAST(60 AS BIGINT)
                  )
                )
              )
            )
          ),
          FALSE
        )
        THEN '; support_offer'
        ELSE ''
      END || CASE
        WHEN COALESCE(
          (
            (
              (
                (
                  (
                    "score"
                  ) >= (
                    CAST(60 AS BIGINT)
                  )
                )
              )
              AND (
                (
                  (
                    "score"
                  ) <= (
                    CAST(80 AS BIGINT)
                  )
                )
              )
            )
          ),
          FALSE
        )
        THEN '; quarterly_checkin'
        ELSE ''
      END || CASE
        WHEN COALESCE((
          (
            (
              "score"
            ) > (
              CAST(80 AS BIGINT)
            )
          )
        ), FALSE)
        THEN '; expansion'
        ELSE ''
      END || CASE
        WHEN COALESCE(
          (
            (
              (
                CAST(NULL AS DOUBLE PRECISION)
              ) < (
                (
                  -(
                    CAST(15 AS BIGINT)
                  )
                )
              )
            )
          ),
          FALSE
        )
        THEN '; re_engagement'
        ELSE ''
      END || CASE
        WHEN COALESCE((
          (
            (
              "score"
            ) < (
              CAST(60 AS BIGINT)
            )
          )
        ), FALSE)
        THEN '; support_ticket'
        ELSE ''
      END
    ) = ''
    THEN ''
    ELSE SUBSTRING((
      CASE
        WHEN COALESCE((
          (
            (
              "score"
            ) < (
              CAST(40 AS BIGINT)
            )
          )
        ), FALSE)
        THEN '; urgent_call'
        ELSE ''
      END || CASE
        WHEN COALESCE(
          (
            (
              (
                (
                  (
                    "score"
                  ) >= (
                    CAST(40 AS BIGINT)
                  )
                )
              )
              AND (
                (
                  (
                    "score"
                  ) < (
                    CAST(60 AS BIGINT)
                  )
                )
              )
            )
          ),
          FALSE
        )
        THEN '; support_offer'
        ELSE ''
      END || CASE
        WHEN COALESCE(
          (
            (
              (
                (
                  (
                    "score"
                  ) >= (
                    CAST(60 AS BIGINT)
                  )
                )
              )
              AND (
                (
                  (
                    "score"
                  ) <= (
                    CAST(80 AS BIGINT)
                  )
                )
              )
            )
          ),
          FALSE
        )
        THEN '; quarterly_checkin'
        ELSE ''
      END || CASE
        WHEN COALESCE((
          (
            (
              "score"
            ) > (
              CAST(80 AS BIGINT)
            )
          )
        ), FALSE)
        THEN '; expansion'
        ELSE ''
      END || CASE
        WHEN COALESCE(
          (
            (
              (
                CAST(NULL AS DOUBLE PRECISION)
              ) < (
                (
                  -(
                    CAST(15 AS BIGINT)
                  )
                )
              )
            )
          ),
          FALSE
        )
        THEN '; re_engagement'
        ELSE ''
      END || CASE
        WHEN COALESCE((
          (
            (
              "score"
            ) < (
              CAST(60 AS BIGINT)
            )
          )
        ), FALSE)
        THEN '; support_ticket'
        ELSE ''
      END
    ) FROM 3)
  END AS "alerts"
FROM "chs_scored";
