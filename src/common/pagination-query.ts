import { ApiPropertyOptional } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { IsInt, IsOptional, Max, Min } from 'class-validator';

/**
 * Plain decimal digits become a number (beyond 2^53 they are all "past any end"); anything else
 * (`1e2`, `0x10`, `-1`, an empty value, a repeated parameter) stays as sent and fails the integer
 * check with the documented message.
 */
const decimalInteger = ({ value }: { value: unknown }): unknown =>
  typeof value === 'string' && /^[0-9]+$/.test(value)
    ? Math.min(Number(value), Number.MAX_SAFE_INTEGER)
    : value;

/** `limit` (1..maxLimit) and `offset` (≥ 0) query parameters with the documented messages. */
export function PaginationQuery(maxLimit: number, defaultLimit: number) {
  class Pagination {
    @ApiPropertyOptional({ type: 'integer', minimum: 1, maximum: maxLimit, default: defaultLimit })
    @IsOptional()
    @Transform(decimalInteger)
    @Max(maxLimit, { message: 'Invalid limit parameter' })
    @Min(1, { message: 'Invalid limit parameter' })
    @IsInt({ message: 'Invalid limit parameter' })
    limit?: number;

    @ApiPropertyOptional({ type: 'integer', minimum: 0, default: 0 })
    @IsOptional()
    @Transform(decimalInteger)
    @Min(0, { message: 'Invalid offset parameter' })
    @IsInt({ message: 'Invalid offset parameter' })
    offset?: number;

    /** The page of `items` these parameters select. */
    page<T>(items: readonly T[]): T[] {
      const { offset, limit } = this.window();
      return items.slice(offset, offset + limit);
    }

    /** The offset and limit asked for, defaults applied. */
    window(): { offset: number; limit: number } {
      return { offset: this.offset ?? 0, limit: this.limit ?? defaultLimit };
    }
  }
  return Pagination;
}
