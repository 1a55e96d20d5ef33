-- Failed logins in the throttle window (etl/accounts.py): for one e-mail since its last successful
-- login, and for one address.
SELECT count(*) FILTER (
           WHERE email = :e
             AND attempted_at > coalesce((SELECT max(attempted_at) FROM portal.login_attempt
                                          WHERE email = :e AND succeeded), '-infinity')) AS by_email,
       count(*) FILTER (WHERE address = :a) AS by_address
FROM portal.login_attempt
WHERE NOT succeeded
  AND attempted_at > clock_timestamp() - :window
  AND (email = :e OR address = :a);
