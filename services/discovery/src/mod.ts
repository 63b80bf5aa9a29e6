/**
 * @stratreg/discovery: mines market data for trading patterns, validates them against
 * overfitting and registers the survivors as candidate strategies.
 * @module
 */
export {};
