import { ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsInt, IsOptional, Max, Min } from 'class-validator';

/** `limit` (1..maxLimit) and `offset` (≥ 0) query parameters with the documented messages. */
export function PaginationQuery(maxLimit: number, defaultLimit: number) {
  class Pagination {
    @ApiPropertyOptional({ type: 'integer', minimum: 1, maximum: maxLimit, default: defaultLimit })
    @IsOptional()
    @Type(() => Number)
    @Max(maxLimit, { message: 'Invalid limit parameter' })
    @Min(1, { message: 'Invalid limit parameter' })
    @IsInt({ message: 'Invalid limit parameter' })
    limit?: number;

    @ApiPropertyOptional({ type: 'integer', minimum: 0, default: 0 })
    @IsOptional()
    @Type(() => Number)
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
