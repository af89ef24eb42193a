-- A payment staff record may also be by a wallet (UPI, Paytm, a phone's wallet app), like cash and card.
ALTER TABLE payments DROP CONSTRAINT payments_method_check;
ALTER TABLE payments ADD CONSTRAINT payments_method_check CHECK (method IN ('cash', 'card', 'wallet', 'stripe'));
